import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a download link works (WorkOS: ten minutes; a fresh one comes with every GET of the export). */
export const DOWNLOAD_URL_TTL_SECONDS = 600;

/**
 * Signs and checks export download links. The key is derived from the master key for this one purpose,
 * so every process of an installation (which shares the master key) accepts links any of them issued,
 * and a link's MAC can never be confused with another use of the master key.
 */
export class DownloadSigner {
  private readonly key: Buffer;

  constructor(masterKey: Buffer) {
    this.key = createHmac('sha256', masterKey).update('verity:export-download-url:v1').digest();
  }

  /** `?expires=…&signature=…` for the export, valid DOWNLOAD_URL_TTL_SECONDS from `now`. */
  sign(exportId: string, now: Date = new Date()): { expires: number; signature: string } {
    const expires = Math.floor(now.getTime() / 1000) + DOWNLOAD_URL_TTL_SECONDS;
    return { expires, signature: this.mac(exportId, expires) };
  }

  /** Whether the link is genuine and unexpired. Constant-time in the signature. */
  verify(exportId: string, expires: string, signature: string, now: Date = new Date()): boolean {
    if (!/^\d{1,12}$/.test(expires)) return false;
    const expiresAt = Number(expires);
    if (expiresAt * 1000 < now.getTime()) return false;
    const expected = Buffer.from(this.mac(exportId, expiresAt));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(exportId: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${exportId}\n${expires}`).digest('base64url');
  }
}
