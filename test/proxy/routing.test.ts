import { describe, expect, it } from 'vitest';
import { createRouter } from '../../src/proxy/routing.ts';

const route = createRouter('keygate.test');

describe('routing by host', () => {
  it.each([
    ['model-chat.acme.keygate.test', '/v1/models'],
    ['model-chat.acme.keygate.test:8080', '/v1/models'],
    ['MODEL-Chat.ACME.Keygate.Test:8080', '/v1/models'],
    ['model-chat.acme.keygate.test.', '/v1/models'],
  ])('%s → acme/chat, path untouched', (host, url) => {
    expect(route(host, url)).toEqual({ kind: 'deployment', projectSlug: 'acme', name: 'chat', path: url, byHost: true });
  });

  it('a deployment host forwards everything, /-/ paths and deployment-looking paths included', () => {
    expect(route('model-chat.acme.keygate.test', '/-/healthz')).toMatchObject({ kind: 'deployment', path: '/-/healthz' });
    expect(route('model-chat.acme.keygate.test', '/other/thing/x')).toMatchObject({ name: 'chat', path: '/other/thing/x' });
  });

  it.each([
    'chat.acme.keygate.test', // no model- prefix
    'model-chat.keygate.test', // no project
    'model-chat.acme.x.keygate.test', // one label too many
    'model-.acme.keygate.test',
    'model-chat..keygate.test',
    'model-chat.acme.keygate.example',
    'model-chat.acme.notkeygate.test',
    '127.0.0.1:8080',
    '[::1]:8080',
  ])('%s is not a deployment host: the path decides', (host) => {
    expect(route(host, '/')).toEqual({ kind: 'none' });
    expect(route(host, '/v1/models')).toMatchObject({ kind: 'deployment', projectSlug: 'v1', name: 'models', byHost: false });
  });
});

describe('routing by path on other hosts', () => {
  it.each([
    ['/acme/chat/v1/chat/completions', '/v1/chat/completions'],
    ['/ACME/Chat/v1/models?limit=2', '/v1/models?limit=2'],
    ['/acme/chat', '/'],
    ['/acme/chat/', '/'],
    ['/acme/chat?x=1', '/?x=1'],
  ])('%s → acme/chat %s', (url, path) => {
    expect(route('127.0.0.1:8080', url)).toEqual({ kind: 'deployment', projectSlug: 'acme', name: 'chat', path, byHost: false });
  });

  it('works without a Host header too', () => {
    expect(route(undefined, '/acme/chat/v1')).toMatchObject({ kind: 'deployment', path: '/v1' });
  });

  it.each([
    ['/-/healthz', 'healthz'],
    ['/-/readyz', 'readyz'],
    ['/-/readyz?x=1', 'readyz'],
  ])('%s is the proxy’s own endpoint', (url, endpoint) => {
    expect(route('localhost:8080', url)).toEqual({ kind: 'internal', endpoint });
  });

  // /-/metrics moved to the status listener (issue 15, finding 8).
  it.each(['/', '/acme', '/acme/', '//chat/x', '/-/nope', '/-/healthz/x', '/-/metrics', '/-/metrics?x=1', '*'])('%s names nothing', (url) => {
    expect(route('localhost', url)).toEqual({ kind: 'none' });
  });
});
