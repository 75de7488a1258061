/**
 * Lets the event loop turn once (I/O callbacks, timers) before going on: for long loops whose
 * calls are all synchronous or answered from memory. setImmediate where the runtime has it
 * (Node: no 1 ms timer clamp), a zero timeout elsewhere.
 */
const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;

export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => { if (immediate) immediate(resolve); else setTimeout(resolve, 0); });
}
