/**
 * What an uploaded file is: its name, sniffed type, size and (for an image)
 * dimensions, the room it was uploaded to and by whom, and the message it
 * was sent with once it is. Its bytes are a blob (`server/files/`), named by
 * their SHA-256 and shared by every record of the same bytes, so a blob may
 * go only when no record names it any more (`remove` says how many still do).
 */
export interface FileRecord {
  id: string;
  room: string;
  uploaderId: string;
  sha256: string;
  name: string;
  type: string;
  size: number;
  width?: number | undefined;
  height?: number | undefined;
  createdAt: number;
  /** The message it was sent with; absent until sent. */
  seq?: number | undefined;
  /** An image's thumbnails: blobs of WebP at most 320 and 1280 px on the longer side. */
  thumb?: string | undefined;
  preview?: string | undefined;
}

export interface FileRecords {
  /** Records an upload, not yet part of any message. */
  add(file: FileRecord): Promise<void>;
  get(id: string): Promise<FileRecord | undefined>;
  /**
   * Marks unsent files of `room` as sent with the message at `seq`; answers
   * how many it marked (a file already sent, or of another room, is left as
   * it is: a file belongs to one message).
   */
  attach(ids: readonly string[], room: string, seq: number): Promise<number>;
  /** Files uploaded before `before` and never sent, oldest first: orphans to collect. */
  unsent(before: number, limit: number): Promise<FileRecord[]>;
  /** Forgets a file; answers how many records still name its blob (0: the blob may be deleted). */
  remove(id: string): Promise<number>;
  /** Bytes `uploaderId` uploaded since `since` (a daily quota), sent or not. */
  uploadedBytes(uploaderId: string, since: number): Promise<number>;
  /** Bytes of every file recorded (the deployment's quota), each record counted as a file (the same bytes twice are two files). */
  totalBytes(): Promise<number>;
}

/** File records in memory, for the in-memory store. */
export class MemoryFileRecords implements FileRecords {
  private readonly files = new Map<string, FileRecord>();

  async add(file: FileRecord): Promise<void> {
    if (this.files.has(file.id)) throw new Error(`file ${file.id} exists`);
    this.files.set(file.id, { ...file });
  }

  async get(id: string): Promise<FileRecord | undefined> {
    const f = this.files.get(id);
    return f && { ...f };
  }

  async attach(ids: readonly string[], room: string, seq: number): Promise<number> {
    return this.attachNow(ids, room, seq);
  }

  /** `attach`, at once (inside the memory store's commit). */
  attachNow(ids: readonly string[], room: string, seq: number): number {
    let n = 0;
    for (const id of ids) {
      const f = this.files.get(id);
      if (f && f.room === room && f.seq === undefined) {
        f.seq = seq;
        n++;
      }
    }
    return n;
  }

  async unsent(before: number, limit: number): Promise<FileRecord[]> {
    return [...this.files.values()]
      .filter((f) => f.seq === undefined && f.createdAt < before)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map((f) => ({ ...f }));
  }

  async remove(id: string): Promise<number> {
    const f = this.files.get(id);
    if (!f) return 0;
    this.files.delete(id);
    let left = 0;
    for (const other of this.files.values()) if (other.sha256 === f.sha256) left++;
    return left;
  }

  async uploadedBytes(uploaderId: string, since: number): Promise<number> {
    let n = 0;
    for (const f of this.files.values()) if (f.uploaderId === uploaderId && f.createdAt >= since) n += f.size;
    return n;
  }

  async totalBytes(): Promise<number> {
    let n = 0;
    for (const f of this.files.values()) n += f.size;
    return n;
  }
}
