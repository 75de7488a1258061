/**
 * The user's named locations, plakar style (`kloset store add NAME location=… key=value…`), kept
 * in one JSON file that holds no secret:
 *
 *   { "version": 1,
 *     "stores": { "my-s3": { "location": "s3://host/bucket", "access_key": "AK…" } },
 *     "sources": {}, "destinations": {},
 *     "keychain": { "store/my-s3": ["secret_access_key"] } }
 *
 * `keychain` lists, per `<kind>/<name>`, the secret keys that `add` moved to the OS keychain (see
 * secrets.ts): reading a location asks the keychain only for those, so a location without secrets
 * never needs a keychain, a keychain outage is reported as such rather than as a missing secret,
 * and a secret left behind by an old entry is never picked up by a new one of the same name.
 *
 * The file is `$KLOSET_CONFIG_DIR/config.json`, else `$XDG_CONFIG_HOME/kloset/config.json`, else
 * `~/.config/kloset/config.json`; it is replaced atomically (temp file + rename) with mode 0600 in
 * a folder created 0700, and changed under a lock file so the desktop app and the CLI can both
 * write it. Names are letters, digits, `-`, `_` and `.` (not starting with `-` or `.`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { KlosetError } from '../kloset/base/errors.js';
import type { LocationKind } from './named.js';
import { defaultKeychain, deleteSecrets, isSecretKey, saveSecrets, secretEnvVar, SECRET_KEYS, type Keychain } from './secrets.js';

export type Params = Record<string, string>;

export interface ConfigFile {
  version: 1;
  stores: Record<string, Params>;
  sources: Record<string, Params>;
  destinations: Record<string, Params>;
  /** `<kind>/<name>` → secret keys saved in the OS keychain */
  keychain: Record<string, string[]>;
}

/** What every operation on named locations may be given; the defaults are the real ones. */
export interface HostOptions {
  /** the config file (default: configPath(env)) */
  configFile?: string;
  /** environment for the config path and secret variables (default: process.env) */
  env?: NodeJS.ProcessEnv;
  /** secret storage (default: the OS keychain through keytar) */
  keychain?: Keychain;
  /** what relative local locations are relative to (default: process.cwd()) */
  cwd?: string;
}

/** One named location as listed: parameters without secrets, and where each secret comes from. */
export interface LocationEntry {
  kind: LocationKind;
  name: string;
  params: Params;
  /** secret key → 'env' (its variable is set: it wins) or 'keychain' (saved there by `add`) */
  secrets: Record<string, 'env' | 'keychain'>;
}

const SECTION = { store: 'stores', source: 'sources', destination: 'destinations' } as const;

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KLOSET_CONFIG_DIR) return join(resolve(env.KLOSET_CONFIG_DIR), 'config.json');
  if (env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME)) return join(env.XDG_CONFIG_HOME, 'kloset', 'config.json');
  return join(env.HOME || homedir(), '.config', 'kloset', 'config.json');
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** Throws unless `name` is a valid location name; returns it. */
export function checkName(kind: LocationKind, name: string): string {
  if (!NAME.test(name) || name === '__proto__') {
    throw new KlosetError('UNSUPPORTED', `'${name}' is not a valid ${kind} name (letters, digits, '-', '_' and '.', not starting with '-' or '.')`);
  }
  return name;
}

function emptyConfig(): ConfigFile {
  return { version: 1, stores: {}, sources: {}, destinations: {}, keychain: {} };
}

function isStringMap(v: unknown): v is Params {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** The config; a missing file is an empty config. */
export async function readConfig(file: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig();
    throw new KlosetError('IO', `cannot read ${file}: ${(e as Error).message}`, undefined, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new KlosetError('CORRUPT', `${file} is not valid JSON: ${(e as Error).message}`, undefined, { cause: e });
  }
  const o = raw as Partial<Record<keyof ConfigFile, unknown>>;
  if (typeof raw !== 'object' || raw === null) throw new KlosetError('CORRUPT', `${file} does not hold a JSON object`);
  if (o.version !== 1) throw new KlosetError('UNSUPPORTED', `${file} has version ${String(o.version)}; this kloset reads version 1`);
  const cfg = emptyConfig();
  for (const section of ['stores', 'sources', 'destinations'] as const) {
    const s = o[section] ?? {};
    if (typeof s !== 'object' || s === null || Array.isArray(s) || !Object.values(s).every(isStringMap)) {
      throw new KlosetError('CORRUPT', `${file}: '${section}' must map names to string parameters`);
    }
    cfg[section] = s as Record<string, Params>;
  }
  const k = o.keychain ?? {};
  if (typeof k !== 'object' || k === null || !Object.values(k).every((v) => Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
    throw new KlosetError('CORRUPT', `${file}: 'keychain' must map names to lists of keys`);
  }
  cfg.keychain = k as Record<string, string[]>;
  return cfg;
}

/** Replaces the config file atomically: a 0600 temp file beside it, fsynced, renamed over it. */
export async function writeConfig(file: string, cfg: ConfigFile): Promise<void> {
  const dir = dirname(file);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.chmod(0o600);
      await fh.writeFile(`${JSON.stringify(cfg, null, 2)}\n`, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new KlosetError('IO', `cannot write ${file}: ${(e as Error).message}`, undefined, { cause: e });
  }
  const d = await open(dir, 'r').catch(() => undefined);
  await d?.sync().catch(() => {});
  await d?.close();
}

const LOCK_STALE_MS = 90_000; // longer than a keychain call may take (unlock prompt, 60 s timeout)
const LOCK_WAIT_MS = 5_000;

/** Runs `fn` holding `<file>.lock` (created exclusively; one older than 90 s is a crashed holder's). */
async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 }).catch((e: Error) => {
    throw new KlosetError('IO', `cannot create ${dirname(file)}: ${e.message}`, undefined, { cause: e });
  });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new KlosetError('IO', `cannot lock ${file}: ${(e as Error).message}`, undefined, { cause: e });
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS) await unlink(lock).catch(() => {});
      else if (Date.now() > deadline) throw new KlosetError('CONFLICT', `${file} is being changed by another kloset (remove ${lock} if none is running)`);
      else await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => {});
  }
}

/**
 * A location as it is saved: `s3://…` as given; `fs://`, `ptar://` and plain paths made absolute
 * (a saved relative path would change meaning with the working directory).
 */
export function normalizeLocation(location: string, cwd: string = process.cwd()): string {
  if (!location) throw new KlosetError('UNSUPPORTED', 'location is empty');
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(location);
  if (!m) return resolve(cwd, location);
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 's3') {
    if (!/^[^/?#]+\/[^/?#]/.test(rest)) throw new KlosetError('UNSUPPORTED', `'${location}' is not s3://host[:port]/bucket[/prefix]`);
    return location;
  }
  if (scheme === 'fs' || scheme === 'ptar') {
    if (!rest) throw new KlosetError('UNSUPPORTED', `'${location}' names no path`);
    return `${scheme}://${resolve(cwd, rest)}`;
  }
  throw new KlosetError('UNSUPPORTED', `'${scheme}://' locations are not supported (a folder path, fs://, ptar:// or s3://)`);
}

/** `map[key]` when it is the map's own entry (a name like 'constructor' is not inherited junk). */
function own<T>(map: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function entryOf(cfg: ConfigFile, kind: LocationKind, name: string, env: NodeJS.ProcessEnv): LocationEntry | undefined {
  const params = own(cfg[SECTION[kind]], name);
  if (!params) return undefined;
  const secrets: LocationEntry['secrets'] = {};
  const saved = keychainKeys(cfg, kind, name);
  for (const key of SECRET_KEYS) {
    if (env[secretEnvVar(kind, name, key)]) secrets[key] = 'env';
    else if (saved.includes(key)) secrets[key] = 'keychain';
  }
  return { kind, name, params: { ...params }, secrets };
}

/** The secret keys `add` saved in the keychain for one location. */
export function keychainKeys(cfg: ConfigFile, kind: LocationKind, name: string): string[] {
  return own(cfg.keychain, `${kind}/${name}`) ?? [];
}

export function notFound(kind: LocationKind, name: string): KlosetError {
  return new KlosetError('NOT_FOUND', `no ${kind} named '${name}' (kloset ${kind} ls)`, { kind, name });
}

/** The raw saved parameters (no secrets) and keychain keys of one location; NOT_FOUND if none. */
export async function getSaved(kind: LocationKind, name: string, opts: HostOptions = {}): Promise<{ params: Params; keychainKeys: string[] }> {
  const cfg = await readConfig(opts.configFile ?? configPath(opts.env));
  const params = own(cfg[SECTION[kind]], checkName(kind, name));
  if (!params) throw notFound(kind, name);
  return { params: { ...params }, keychainKeys: keychainKeys(cfg, kind, name) };
}

/** Every location of a kind, by name. Never asks the keychain. */
export async function listLocations(kind: LocationKind, opts: HostOptions = {}): Promise<LocationEntry[]> {
  const env = opts.env ?? process.env;
  const cfg = await readConfig(opts.configFile ?? configPath(env));
  return Object.keys(cfg[SECTION[kind]]).sort().map((name) => entryOf(cfg, kind, name, env)!);
}

/** One location; NOT_FOUND naming the kind when there is none. Never asks the keychain. */
export async function getLocation(kind: LocationKind, name: string, opts: HostOptions = {}): Promise<LocationEntry> {
  const env = opts.env ?? process.env;
  const cfg = await readConfig(opts.configFile ?? configPath(env));
  const entry = entryOf(cfg, kind, checkName(kind, name), env);
  if (!entry) throw notFound(kind, name);
  return entry;
}

export interface AddOptions extends HostOptions {
  /** replace an existing location of that name (else CONFLICT) */
  overwrite?: boolean;
}

/** Keychain accounts that could not be deleted (the keychain was unavailable); harmless leftovers. */
export interface Leftovers {
  leftInKeychain: string[];
}

/**
 * Saves a location: secret keys go to the keychain (all or nothing), the rest to the config file.
 * When a secret cannot be saved nothing is written anywhere. Replacing an entry deletes the old
 * entry's secrets that the new one does not have.
 */
export async function addLocation(kind: LocationKind, name: string, params: Params, opts: AddOptions = {}): Promise<Leftovers> {
  checkName(kind, name);
  const plain: Params = {};
  const secrets: Params = {};
  for (const [key, value] of Object.entries(params)) {
    if (!KEY.test(key)) throw new KlosetError('UNSUPPORTED', `'${key}' is not a valid parameter name`);
    if (isSecretKey(key)) {
      if (!value) throw new KlosetError('UNSUPPORTED', `${key} is empty`);
      secrets[key] = value;
    } else plain[key] = value;
  }
  if (plain.location === undefined) throw new KlosetError('UNSUPPORTED', `a ${kind} needs a location (location=s3://host/bucket, a folder path, fs://… or ptar://…)`);
  plain.location = normalizeLocation(plain.location, opts.cwd);
  const file = opts.configFile ?? configPath(opts.env);
  const keychain = opts.keychain ?? defaultKeychain();
  return withLock(file, async () => {
    const cfg = await readConfig(file);
    const section = cfg[SECTION[kind]];
    const existed = Object.hasOwn(section, name);
    if (existed && !opts.overwrite) throw new KlosetError('CONFLICT', `${kind} '${name}' already exists (use -f to replace it)`, { kind, name });
    const before = keychainKeys(cfg, kind, name);
    const keys = Object.keys(secrets);
    if (keys.length) await saveSecrets(keychain, kind, name, secrets);
    section[name] = plain;
    if (keys.length) cfg.keychain[`${kind}/${name}`] = keys;
    else delete cfg.keychain[`${kind}/${name}`];
    try {
      await writeConfig(file, cfg);
    } catch (e) {
      if (!existed && keys.length) await deleteSecrets(keychain, kind, name, keys);
      throw e;
    }
    const stale = before.filter((k) => !keys.includes(k));
    return { leftInKeychain: stale.length ? await deleteSecrets(keychain, kind, name, stale) : [] };
  });
}

/** Removes a location and its keychain secrets; NOT_FOUND when there is none. */
export async function removeLocation(kind: LocationKind, name: string, opts: HostOptions = {}): Promise<Leftovers> {
  checkName(kind, name);
  const file = opts.configFile ?? configPath(opts.env);
  return withLock(file, async () => {
    const cfg = await readConfig(file);
    const section = cfg[SECTION[kind]];
    if (!Object.hasOwn(section, name)) throw notFound(kind, name);
    const saved = keychainKeys(cfg, kind, name);
    delete section[name];
    delete cfg.keychain[`${kind}/${name}`];
    await writeConfig(file, cfg);
    return { leftInKeychain: saved.length ? await deleteSecrets(opts.keychain ?? defaultKeychain(), kind, name, saved) : [] };
  });
}
