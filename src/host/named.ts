/**
 * `@NAME` arguments: a store, source or destination saved with `kloset <kind> add NAME …`
 * (config.ts), turned back into the parameters a connector takes, secrets included.
 *
 * Secrets come from their environment variable first (secrets.ts: KLOSET_<KIND>_<NAME>_<KEY>),
 * then from the OS keychain for the keys `add` saved there. A secret found nowhere is simply
 * absent — the connector decides whether it needs it. A keychain that cannot be used is an IO
 * error saying so (never a missing or wrong secret).
 */
import { configPath, getSaved, type HostOptions, type Params } from './config.js';
import { defaultKeychain, readSecrets } from './secrets.js';

export type LocationKind = 'store' | 'source' | 'destination';

export const LOCATION_KINDS: readonly LocationKind[] = ['store', 'source', 'destination'];

/** True for a reference to a saved location (`@NAME`) rather than a location itself. */
export function isNamedRef(arg: string): boolean {
  return arg.startsWith('@');
}

/** The parameters of `@NAME` with its secrets merged in; NOT_FOUND naming the kind and name. */
export async function resolveNamed(kind: LocationKind, ref: string, opts: HostOptions = {}): Promise<Params> {
  const name = isNamedRef(ref) ? ref.slice(1) : ref;
  const env = opts.env ?? process.env;
  const saved = await getSaved(kind, name, { ...opts, configFile: opts.configFile ?? configPath(env) });
  const secrets = await readSecrets(opts.keychain ?? defaultKeychain(), kind, name, saved.keychainKeys, env);
  return { ...saved.params, ...secrets };
}
