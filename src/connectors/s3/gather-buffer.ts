/**
 * One reusable buffer that the S3 store gathers a multipart body (a packfile) into before its
 * upload. Given a stream, lib-storage concatenated each 8 MiB part into fresh memory, and on
 * this VM kind faulting those pages in cost 2.2 s of the main thread per GiB uploaded; one
 * buffer kept from one packfile to the next (the writer uploads one at a time) costs that once.
 *
 * `take` gives a view of the buffer (grown as needed) while no other put holds it, else a fresh
 * buffer; `give` hands it back once the upload is over (the SDK keeps no reference to a
 * finished request's body). A view that is not of the buffer is ignored.
 */
export class GatherBuffer {
  private buf: Uint8Array | null = null;
  private busy = false;

  take(size: number): Uint8Array {
    if (this.busy) return new Uint8Array(size);
    this.busy = true;
    if (!this.buf || this.buf.length < size) this.buf = new Uint8Array(size);
    return this.buf.subarray(0, size);
  }

  give(view: Uint8Array): void {
    if (this.buf && view.buffer === this.buf.buffer) this.busy = false;
  }
}
