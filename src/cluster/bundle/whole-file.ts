/**
 * A bundle file's bytes in one request to libuv's thread pool. fs.readFile reads 512 KiB
 * per request and issues each next request from the main thread, so a big file whose read
 * overlaps a long JSON.parse (kube-system's pods.json at 5,000 nodes is 61 MiB, 122
 * requests) makes no progress until the parse ends. One read of the whole file completes
 * in the pool meanwhile. Errors are readFile's own (`EACCES: permission denied, open …`).
 */
import { open } from 'node:fs/promises';

/**
 * @param size the file's size from its lstat: as readFile does with its fstat size, the read
 * stops there (or at an earlier end of file); bundle files do not change while read.
 */
export async function readWhole(full: string, size: number): Promise<Buffer> {
  const handle = await open(full, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(size);
    let length = 0;
    while (length < size) {
      const { bytesRead } = await handle.read(buffer, length, size - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return length === size ? buffer : buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}
