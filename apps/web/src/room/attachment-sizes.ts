const sizeFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** 1 KB = 1024 bytes, as file managers show sizes. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${sizeFormat.format(bytes / 1024)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${sizeFormat.format(bytes / (1024 * 1024))} MB`;
  return `${sizeFormat.format(bytes / (1024 * 1024 * 1024))} GB`;
}

/** The box a thumbnail is drawn in (CSS pixels); the server's thumbnails fit 320 × 320. */
export const THUMBNAIL_BOX = 240;

/**
 * The size a thumbnail is drawn at, from the image's own dimensions: written on the <img> so the
 * browser reserves its place before the bytes arrive and the timeline does not jump. CSS lets it
 * shrink further on a narrow screen, keeping this ratio.
 */
export function thumbnailSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, THUMBNAIL_BOX / width, THUMBNAIL_BOX / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
