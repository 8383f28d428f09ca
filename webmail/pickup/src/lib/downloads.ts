/**
 * The Blob URLs of attachment downloads. Always `application/octet-stream`, whatever type the message
 * declares: however a URL is opened — click, Enter, middle-click, "open in new tab", dragged, or pasted
 * into the address bar — the browser saves the file and never renders it as a document of the pickup
 * origin (DESIGN.md invariant 9). A blob: URL pasted into the address bar does not even inherit the
 * page's CSP (Chromium 156), so this type is the lock; the `download` attribute only names the file.
 */
export const DOWNLOAD_TYPE = 'application/octet-stream';

export class DownloadUrls {
  readonly #urls = new Set<string>();

  create(bytes: Uint8Array): string {
    const url = URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: DOWNLOAD_TYPE }));
    this.#urls.add(url);
    return url;
  }

  revokeAll(): void {
    for (const url of this.#urls) URL.revokeObjectURL(url);
    this.#urls.clear();
  }
}
