// The suite's verdicts: each check is named, runs once, and reports what failed.
import { isDeepStrictEqual, inspect } from 'node:util';

export class CheckFailed extends Error {}

export function ok(condition: unknown, what: string): asserts condition {
  if (!condition) throw new CheckFailed(what);
}

export function equal<T>(actual: T, expected: T, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new CheckFailed(`${what}: expected ${inspect(expected, { depth: 6 })}, got ${inspect(actual, { depth: 6 })}`);
  }
}

export interface Verdict {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

/** Runs checks in order; a failing check is reported and the next ones still run. */
export class Suite {
  readonly verdicts: Verdict[] = [];

  async check(name: string, run: () => Promise<void>): Promise<void> {
    const started = Date.now();
    try {
      await run();
      this.verdicts.push({ name, ok: true, ms: Date.now() - started });
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.verdicts.push({ name, ok: false, ms: Date.now() - started, error });
    }
    const last = this.verdicts[this.verdicts.length - 1]!;
    console.log(JSON.stringify(last));
  }

  get failed(): number {
    return this.verdicts.filter((v) => !v.ok).length;
  }
}

/** A fetch that remembers every request it sends, for checks on what went over the wire. */
export function recordingFetch(): { fetch: typeof fetch; sent: { method: string; url: string; body: string | null }[] } {
  const sent: { method: string; url: string; body: string | null }[] = [];
  const recording: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const body = typeof init?.body === 'string' ? init.body : init?.body == null ? null : '[binary]';
    sent.push({ method: init?.method ?? 'GET', url, body });
    return fetch(input, init);
  };
  return { fetch: recording, sent };
}

/** The environment the Rust test (tests/api/clients.rs) hands over. */
export interface Env {
  /** The server in the default (open) documents mode. */
  url: string;
  /** A second server on the same database in trusted-documents mode. */
  trustedUrl: string;
  annToken: string;
  bobToken: string;
  /** A JPEG with EXIF (taken 2024-06-01 12:30 at +02:00 by an iPhone). */
  exifPhoto: string;
  /** Small distinct pictures for the library screens. */
  photos: string[];
  /** Origin listed in HYPERNET_CORS_ORIGINS, and one that is not. */
  allowedPort: number;
  otherPort: number;
  chromium: string;
}

export function readEnv(): Env {
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run the suite through \`cargo test --test api clients\``);
    return value;
  };
  return {
    url: need('HYPERNET_URL'),
    trustedUrl: need('HYPERNET_TRUSTED_URL'),
    annToken: need('HYPERNET_ANN_TOKEN'),
    bobToken: need('HYPERNET_BOB_TOKEN'),
    exifPhoto: need('HYPERNET_EXIF_PHOTO'),
    photos: need('HYPERNET_PHOTOS').split(':'),
    allowedPort: Number(need('HYPERNET_ALLOWED_PORT')),
    otherPort: Number(need('HYPERNET_OTHER_PORT')),
    chromium: need('HYPERNET_CHROMIUM'),
  };
}
