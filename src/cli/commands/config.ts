/**
 * `kloset store|source|destination add|ls|rm` — named locations, as plakar's `store add`:
 *
 *   kloset store add [-f] NAME LOCATION [key=value…]     (or location=LOCATION)
 *   kloset store ls [NAME]
 *   kloset store rm NAME…
 *
 * A value may contain '='; the part before the first '=' is the key. Secret keys
 * (secret_access_key, session_token, passphrase, sse_customer_key) go to the OS keychain, and
 * `ls` only says where a secret comes from (`<keychain>` or `<env>`), never its value.
 * The saved locations are used as `@NAME` (host/named.ts).
 */
import { KlosetError } from '../../kloset/base/errors.js';
import { addLocation, getLocation, listLocations, removeLocation, type LocationEntry, type Params } from '../../host/config.js';
import type { LocationKind } from '../../host/named.js';
import { isSecretKey } from '../../host/secrets.js';

const PARAM = /^([A-Za-z][A-Za-z0-9_.-]*)=([\s\S]*)$/;

function usage(kind: LocationKind): KlosetError {
  return new KlosetError('UNSUPPORTED', `usage: kloset ${kind} add [-f] NAME LOCATION [key=value...] | ls [NAME] | rm NAME...`);
}

/** `add` arguments: flags, the name, an optional bare location, then key=value pairs. */
function parseAdd(kind: LocationKind, args: string[]): { name: string; params: Params; force: boolean } {
  let force = false;
  let name: string | undefined;
  const params: Params = {};
  for (const a of args) {
    const kv = PARAM.exec(a);
    if (a === '-f' || a === '--force' || a === '-force') force = true;
    else if (a.startsWith('-') && !kv) throw new KlosetError('UNSUPPORTED', `unknown flag ${a} (${usage(kind).message})`);
    else if (name === undefined) name = a;
    else if (kv) {
      const [, key, value] = kv;
      if (Object.hasOwn(params, key!)) throw new KlosetError('UNSUPPORTED', `${key} is given twice`);
      params[key!] = value!;
    } else if (params.location === undefined) params.location = a;
    else throw new KlosetError('UNSUPPORTED', `unexpected '${a}': parameters are key=value (${usage(kind).message})`);
  }
  if (name === undefined) throw usage(kind);
  return { name, params, force };
}

function quote(v: string): string {
  return v === '' || /[\s"'\\]/.test(v) ? JSON.stringify(v) : v;
}

/** One `ls` line: the name, the location, the other parameters, then where each secret comes from. */
function line(e: LocationEntry): string {
  const keys = Object.keys(e.params).sort((a, b) => (a === 'location' ? -1 : b === 'location' ? 1 : a.localeCompare(b)));
  const parts = keys.map((k) => `${k}=${isSecretKey(k) ? '<config>' : quote(e.params[k]!)}`);
  for (const [k, from] of Object.entries(e.secrets)) parts.push(`${k}=<${from}>`);
  return `${e.name} ${parts.join(' ')}\n`;
}

function warnLeftovers(left: string[]): void {
  if (left.length) {
    process.stderr.write(`kloset: note: the OS keychain was unavailable, so these secrets may remain in it (service kloset-desktop): ${left.join(', ')}\n`);
  }
}

export async function configCommand(kind: LocationKind, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      const { name, params, force } = parseAdd(kind, rest);
      const r = await addLocation(kind, name, params, { overwrite: force });
      const secrets = Object.keys(params).filter(isSecretKey);
      process.stdout.write(`saved ${kind} '${name}'${secrets.length ? ` (${secrets.join(', ')} in the OS keychain)` : ''}\n`);
      warnLeftovers(r.leftInKeychain);
      return 0;
    }
    case 'ls': {
      if (rest.length > 1) throw usage(kind);
      const entries = rest[0] !== undefined ? [await getLocation(kind, rest[0])] : await listLocations(kind);
      process.stdout.write(entries.map(line).join(''));
      return 0;
    }
    case 'rm': {
      if (rest.length === 0) throw usage(kind);
      for (const name of rest) {
        const r = await removeLocation(kind, name);
        process.stdout.write(`removed ${kind} '${name}'\n`);
        warnLeftovers(r.leftInKeychain);
      }
      return 0;
    }
    default:
      throw usage(kind);
  }
}
