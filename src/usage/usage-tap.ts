// Reads the OpenAI-compatible `usage` object out of a response body as its chunks pass by, for
// JSON bodies and SSE streams alike: it looks for the key `"usage"` followed by an object, wherever
// it appears (a JSON body's top level, or any `data:` event of a stream), and keeps the last one
// that carries token counts. Last rather than sum: servers that repeat usage in every chunk (vLLM's
// continuous usage stats) send running totals.
//
// It never holds a chunk, never delays one and never throws: the caller hands it each chunk after
// (or while) the chunk goes to the client. Memory is bounded: a marker's worth of carry-over between
// chunks and at most MAX_OBJECT_BYTES of one candidate object, so a 10 MB body costs nothing extra.
// A marker or object split across chunks is still found; an escaped `\"usage\"` inside a string is not
// a key and is skipped.

const MARKER = Buffer.from('"usage"');
const MAX_OBJECT_BYTES = 2048;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN = 0x7b;
const CLOSE = 0x7d;

const enum State {
  /** looking for the marker */
  Seek,
  /** after the marker: whitespace, then ':' */
  Colon,
  /** after ':': whitespace, then '{' (anything else, e.g. null, is not a usage object) */
  Value,
  /** inside the object, collecting its bytes */
  Object,
}

export interface TokenCounts {
  promptTokens: number;
  completionTokens: number;
}

/** Whether the chunk's last `k` bytes are the marker's first `k`. */
function endsWithMarkerStart(chunk: Buffer, k: number): boolean {
  const start = chunk.length - k;
  for (let j = 0; j < k; j++) if (chunk[start + j] !== MARKER[j]) return false;
  return true;
}

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Reads a token count: a non-negative safe integer, else 0. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** The token counts of a parsed usage object (Chat Completions / Completions / Embeddings, or the
 *  Responses API's input/output names); null when it carries none. */
export function tokensOf(usage: unknown): TokenCounts | null {
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return null;
  const u = usage as Record<string, unknown>;
  const prompt = u.prompt_tokens ?? u.input_tokens;
  const completion = u.completion_tokens ?? u.output_tokens;
  if (typeof prompt !== 'number' && typeof completion !== 'number') return null;
  return { promptTokens: count(prompt), completionTokens: count(completion) };
}

export class UsageTap {
  /** the last usage object seen; null while none was */
  usage: TokenCounts | null = null;
  private state = State.Seek;
  /** how many leading bytes of the marker the previous chunk ended with */
  private partial = 0;
  /** the byte before the current chunk (for the escape check of a marker that starts a chunk) */
  private previous = 0;
  /** the partial marker at the end of the previous chunk followed a backslash: not a key */
  private markerEscaped = false;
  /** the object's bytes so far when it spans chunks (made the first time one does) */
  private parts: Buffer[] | null = null;
  private size = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** Looks at one chunk of the body. Never throws. */
  write(chunk: Buffer): void {
    try {
      this.scan(chunk);
    } catch {
      this.reset();
    }
    if (chunk.length > 0) this.previous = chunk[chunk.length - 1]!;
  }

  private scan(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case State.Seek: {
          i = this.seek(chunk, i);
          break;
        }
        case State.Colon: {
          const b = chunk[i++]!;
          if (b === COLON) this.state = State.Value;
          else if (!isSpace(b)) this.reset();
          break;
        }
        case State.Value: {
          const b = chunk[i]!;
          if (b === OPEN) {
            this.state = State.Object;
            this.depth = 0;
            this.inString = false;
            this.escaped = false;
          } else {
            i++;
            if (!isSpace(b)) this.reset();
          }
          break;
        }
        case State.Object: {
          i = this.collect(chunk, i);
          break;
        }
      }
    }
  }

  /** Finds the marker from `from`; returns where scanning goes on. */
  private seek(chunk: Buffer, from: number): number {
    if (this.partial > 0) {
      // The previous chunk ended with the marker's first `partial` bytes: does this one go on with it?
      const prefix = this.partial;
      const escaped = this.markerEscaped;
      const need = MARKER.length - prefix;
      const avail = Math.min(need, chunk.length);
      this.partial = 0;
      this.markerEscaped = false;
      if (chunk.compare(MARKER, prefix, prefix + avail, 0, avail) === 0) {
        if (avail < need) {
          this.partial = prefix + avail;
          this.markerEscaped = escaped;
          return chunk.length;
        }
        if (!escaped) this.state = State.Colon;
        return need;
      }
    }
    const at = chunk.indexOf(MARKER, from);
    if (at >= 0) {
      const before = at > 0 ? chunk[at - 1]! : this.previous;
      if (before !== BACKSLASH) this.state = State.Colon;
      return at + MARKER.length;
    }
    // Not here: remember whether the chunk ends with the start of a marker. Byte by byte: this runs
    // for every chunk without a marker (most of a stream), and a marker's start is a quote.
    const n = chunk.length;
    const tail = Math.min(MARKER.length - 1, n - from);
    for (let k = tail; k > 0; k--) {
      if (chunk[n - k] !== QUOTE || !endsWithMarkerStart(chunk, k)) continue;
      this.partial = k;
      const before = n - k > 0 ? chunk[n - k - 1]! : this.previous;
      this.markerEscaped = before === BACKSLASH;
      break;
    }
    return n;
  }

  /** Collects the object's bytes until its closing brace; returns where scanning goes on. */
  private collect(chunk: Buffer, from: number): number {
    let i = from;
    const n = chunk.length;
    for (; i < n; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
      } else if (b === QUOTE) this.inString = true;
      else if (b === OPEN) this.depth++;
      else if (b === CLOSE && --this.depth === 0) {
        i++;
        if (this.size === 0 && i - from <= MAX_OBJECT_BYTES) {
          // The whole object in this chunk (the usual case): parsed from it, nothing copied.
          this.found(chunk.toString('utf8', from, i));
          return i;
        }
        if (!this.keep(chunk.subarray(from, i))) return i;
        this.found(Buffer.concat(this.parts!, this.size).toString('utf8'));
        return i;
      }
    }
    this.keep(chunk.subarray(from, n));
    return n;
  }

  /** Adds bytes of the object; false (and back to seeking) when it grows past the bound. */
  private keep(bytes: Buffer): boolean {
    this.size += bytes.length;
    if (this.size > MAX_OBJECT_BYTES) {
      this.reset();
      return false;
    }
    // A copy: the chunk belongs to the stream and may be reused once it is written.
    (this.parts ??= []).push(Buffer.from(bytes));
    return true;
  }

  private found(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    const tokens = tokensOf(parsed);
    if (tokens) this.usage = tokens;
    this.reset();
  }

  private reset(): void {
    this.state = State.Seek;
    if (this.parts !== null) this.parts.length = 0;
    this.size = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.partial = 0;
    this.markerEscaped = false;
  }
}

/** Whether a response's body can be read for usage: not compressed (counting nothing beats
 *  decoding), and JSON or an event stream (or untyped). */
export function canTapBody(contentType: string | undefined, contentEncoding: string | undefined): boolean {
  if (contentEncoding !== undefined && contentEncoding !== '' && contentEncoding.toLowerCase() !== 'identity') return false;
  if (contentType === undefined) return true;
  const type = contentType.toLowerCase();
  return type.includes('json') || type.includes('text/event-stream');
}
