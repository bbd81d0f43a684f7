// Preloaded into a keygate process by a test (`node --import`): appends the URL of every module the
// process loads — ES modules and CommonJS, through tsx's loader or not — to the file named by
// KEYGATE_TEST_LOADED_MODULES, one a line. It lives in the test tree; keygate knows nothing of it.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.KEYGATE_TEST_LOADED_MODULES;
if (out) {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(out, `${url}\n`);
      return nextLoad(url, context);
    },
  });
}
