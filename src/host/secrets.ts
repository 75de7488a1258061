/**
 * Secrets of named locations: they live in the OS keychain (keytar: libsecret's Secret Service on
 * Linux, Keychain on macOS, Credential Vault on Windows) or in the environment, never in
 * config.json and never in logs or error messages.
 *
 * - A secret parameter is one of SECRET_KEYS. Its keychain entry is service "kloset-desktop",
 *   account `<kind>/<name>/<key>` (e.g. `store/my-s3/secret_access_key`).
 * - Its environment variable is `KLOSET_<KIND>_<NAME>_<KEY>`, upper-cased with every
 *   non-alphanumeric character turned into `_` (KLOSET_STORE_MY_S3_SECRET_ACCESS_KEY). When it is
 *   set (non-empty) it wins and the keychain is not asked at all, which is how headless machines
 *   without a Secret Service run. Names differing only in `-`/`_`/`.` share a variable.
 * - When the keychain cannot be used (no D-Bus session, no Secret Service, a locked collection,
 *   keytar failing to load, no answer) every operation fails with code IO — the environment
 *   failed, the secret is not wrong — and a message that starts "the OS keychain is unavailable",
 *   gives the underlying reason and names the environment variable to use instead. Never AUTH:
 *   a keyring problem must not look like a wrong passphrase.
 *
 * The backend is the small `Keychain` interface so that config logic can be tested with
 * `MemoryKeychain`; `keytarKeychain()` is the real one.
 */
import { KlosetError } from '../kloset/base/errors.js';
import type { LocationKind } from './named.js';

export const KEYCHAIN_SERVICE = 'kloset-desktop';

/** Parameter keys that are secrets: moved to the keychain by `add`, never written to config.json. */
export const SECRET_KEYS: readonly string[] = ['secret_access_key', 'session_token', 'passphrase', 'sse_customer_key'];

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.includes(key);
}

/** The keychain account of one secret: `store/my-s3/secret_access_key`. */
export function secretAccount(kind: LocationKind, name: string, key: string): string {
  return `${kind}/${name}/${key}`;
}

/** The environment variable that supplies (and overrides) one secret. */
export function secretEnvVar(kind: LocationKind, name: string, key: string): string {
  return `KLOSET_${kind}_${name}_${key}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/**
 * Where secrets are kept, per account of service KEYCHAIN_SERVICE. Every method rejects (with an
 * Error whose message is the reason) when the keychain cannot be used right now.
 * - get: the secret, or null when there is none — or, with libsecret, when the collection is locked;
 * - set: creates or replaces;
 * - delete: true when something was deleted;
 * - probe: resolves only when the keychain can store a secret now (tells "locked" from "missing").
 */
export interface Keychain {
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
  probe(): Promise<void>;
}

/** An in-process keychain for tests; set `unavailable` to a reason to make every call fail. */
export class MemoryKeychain implements Keychain {
  readonly entries = new Map<string, string>();
  unavailable: string | undefined;

  private check(): void {
    if (this.unavailable !== undefined) throw new Error(this.unavailable);
  }
  async get(account: string) { this.check(); return this.entries.get(account) ?? null; }
  async set(account: string, secret: string) { this.check(); this.entries.set(account, secret); }
  async delete(account: string) { this.check(); return this.entries.delete(account); }
  async probe() { this.check(); }
}

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

let keytarModule: Promise<Keytar> | undefined;

/** keytar is a native addon: loaded on first use so that a broken build only fails secret operations. */
function loadKeytar(): Promise<Keytar> {
  keytarModule ??= import('keytar').then(
    (m) => ((m as { default?: Keytar }).default ?? m) as Keytar,
    (e: unknown) => {
      keytarModule = undefined;
      throw new Error(`keytar could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
    },
  );
  return keytarModule;
}

const PROBE_ACCOUNT = '.probe';

/**
 * The OS keychain through keytar. A call that gets no answer within `timeoutMs` fails (a stuck
 * D-Bus activation must not hang the CLI); the default leaves time to type into an unlock prompt.
 */
export function keytarKeychain(opts: { timeoutMs?: number } = {}): Keychain {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  async function call<T>(op: (k: Keytar) => Promise<T>): Promise<T> {
    const k = await loadKeytar();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([op(k), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    get: (account) => call((k) => k.getPassword(KEYCHAIN_SERVICE, account)),
    set: (account, secret) => call((k) => k.setPassword(KEYCHAIN_SERVICE, account, secret)),
    delete: (account) => call((k) => k.deletePassword(KEYCHAIN_SERVICE, account)),
    probe: () => call(async (k) => {
      await k.setPassword(KEYCHAIN_SERVICE, PROBE_ACCOUNT, 'probe');
      await k.deletePassword(KEYCHAIN_SERVICE, PROBE_ACCOUNT);
    }),
  };
}

let shared: Keychain | undefined;

/** The process's OS keychain (one keytar backend for everyone). */
export function defaultKeychain(): Keychain {
  return (shared ??= keytarKeychain());
}

/** A short plain-words hint in front of the backend's own reason. */
function explain(reason: string): string {
  const hints: [RegExp, string][] = [
    [/autolaunch D-Bus|DBUS_SESSION_BUS_ADDRESS|Could not connect|Failed to connect to socket/i, 'no D-Bus session bus'],
    [/not provided by any \.service files|ServiceUnknown|org\.freedesktop\.secrets/i, 'no Secret Service (gnome-keyring, KeePassXC…) on the session bus'],
    [/locked|collection\/login|Object does not exist|dismissed/i, 'the keyring is locked'],
    [/keytar could not be loaded/i, 'the keychain module is not available'],
    [/no answer within/i, 'the keychain does not answer'],
  ];
  const hint = hints.find(([re]) => re.test(reason))?.[1];
  return hint ? `${hint}: ${reason}` : reason;
}

/** The one error for "the keychain cannot be used": IO, with the reason and the variables to set. */
export function keychainUnavailable(doing: string, envVars: string[], cause: unknown): KlosetError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const vars = envVars.join(' and ');
  return new KlosetError(
    'IO',
    `${doing}: the OS keychain is unavailable (${explain(reason)}); set ${vars} in the environment instead`,
    { keychain: 'unavailable', reason, env: envVars },
    { cause },
  );
}

/**
 * Saves `secrets` of one location, all or nothing: when one cannot be saved those already saved
 * are removed again and the error says which variables to set instead.
 */
export async function saveSecrets(keychain: Keychain, kind: LocationKind, name: string, secrets: Record<string, string>): Promise<void> {
  const done: string[] = [];
  try {
    for (const [key, value] of Object.entries(secrets)) {
      await keychain.set(secretAccount(kind, name, key), value);
      done.push(key);
    }
  } catch (e) {
    for (const key of done) await keychain.delete(secretAccount(kind, name, key)).catch(() => false);
    const keys = Object.keys(secrets);
    throw keychainUnavailable(
      `cannot save ${keys.join(', ')} of ${kind} '${name}' (nothing was saved; leave ${keys.length > 1 ? 'them' : 'it'} out of the command)`,
      keys.map((k) => secretEnvVar(kind, name, k)),
      e,
    );
  }
}

/**
 * The secrets of one location: every secret key from its environment variable when set, else
 * from the keychain for the keys `inKeychain` says were saved there. A saved secret that the
 * keychain no longer returns is absent — unless the keychain cannot store anything right now
 * (libsecret answers "nothing" for a locked collection), which is the unavailable error.
 */
export async function readSecrets(
  keychain: Keychain,
  kind: LocationKind,
  name: string,
  inKeychain: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of new Set([...SECRET_KEYS, ...inKeychain])) {
    const fromEnv = env[secretEnvVar(kind, name, key)];
    if (fromEnv) {
      out[key] = fromEnv;
      continue;
    }
    if (!inKeychain.includes(key)) continue;
    const doing = `cannot read ${key} of ${kind} '${name}'`;
    const envVar = [secretEnvVar(kind, name, key)];
    let value: string | null;
    try {
      value = await keychain.get(secretAccount(kind, name, key));
      if (value === null) await keychain.probe();
    } catch (e) {
      throw keychainUnavailable(doing, envVar, e);
    }
    if (value !== null) out[key] = value;
  }
  return out;
}

/**
 * Deletes secrets of one location; returns the accounts that may remain because the keychain
 * could not be used (the caller tells the user; they are harmless since nothing refers to them).
 */
export async function deleteSecrets(keychain: Keychain, kind: LocationKind, name: string, keys: readonly string[]): Promise<string[]> {
  const left: string[] = [];
  for (const key of keys) {
    const account = secretAccount(kind, name, key);
    try {
      if (!(await keychain.delete(account))) await keychain.probe();
    } catch {
      left.push(account);
    }
  }
  return left;
}
