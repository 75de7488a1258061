/**
 * Removing a snapshot (plakar `rm`, spec §7.3): a new state with one ET_COLOURED entry for the
 * snapshot; readers stop listing it at once. Its blobs stay until maintenance collects them.
 * The state is named by the MAC of its bytes, as kloset's DeleteSnapshot does.
 */
import { KlosetError } from '../base/errors.js';
import { toHex } from '../base/bytes.js';
import { BlobType } from './blob-types.js';
import type { Repository } from './repository.js';
import { serializeState, STATE_VERSION_1_1, type StateStream } from './state.js';
import { ResourceType, wrap } from './wrapper.js';

export async function removeSnapshot(repo: Repository, id: Uint8Array): Promise<void> {
  if (!repo.snapshotIds().some((s) => toHex(s) === toHex(id))) throw new KlosetError('NOT_FOUND', `no snapshot ${toHex(id).slice(0, 8)}`);
  const now = BigInt(Math.round(repo.prims.now())) * 1_000_000n;
  const stream: StateStream = {
    parent: null,
    entries: [{ kind: 'coloured', type: BlobType.SNAPSHOT, mac: id, when: now }],
    metadata: { version: STATE_VERSION_1_1, timestamp: now, serial: repo.prims.random(16) },
  };
  const bytes = serializeState(stream, STATE_VERSION_1_1);
  const stateId = repo.mac.sum(bytes);
  await repo.storage.put('state', stateId, wrap(ResourceType.STATE, STATE_VERSION_1_1, repo.codec.encode(bytes), repo.mac));
  repo.index.apply(stateId, stream);
}
