/**
 * What an uploaded file really is, from its bytes: `file-type` for binary formats, strict UTF-8
 * without NUL for text, and `sharp` for an image's dimensions and thumbnail. Both libraries are
 * imported on the first upload, not at server start: sharp is a native addon (tens of
 * milliseconds to load) and most processes never see an upload.
 */

export interface InspectedFile {
  contentType: string;
  width: number | null;
  height: number | null;
  /** A WebP that fits in 320×320, for images. */
  thumbnail: Buffer | null;
}

/** Why a file is refused: the HTTP route answers 415 with this message. */
export class UnsupportedFileError extends Error {
  override name = "UnsupportedFileError";
}

export const THUMBNAIL_SIZE = 320;
/**
 * The most pixels an image may decode to (about 40 megapixels: a 7,000 × 5,700 photo). A small
 * PNG can declare 50,000 × 50,000 pixels of one colour: decoding it would take gigabytes, so
 * sharp refuses it before decoding.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;

const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const utf8 = new TextDecoder("utf-8", { fatal: true });

function isPlainText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** image, pdf or text: a declared type and a detected one must be of the same family. */
function familyOf(contentType: string): string {
  return contentType.startsWith("image/") ? "image" : contentType;
}

/**
 * The file's type and, for an image, its dimensions and thumbnail. Refuses (UnsupportedFileError)
 * a type not in `allowed`, one of another family than `declared` (HTML named .png and declared
 * image/png is text, not an image), and an image sharp cannot decode within MAX_IMAGE_PIXELS.
 */
export async function inspectFile(
  bytes: Buffer,
  declared: string,
  allowed: readonly string[],
): Promise<InspectedFile> {
  const { fileTypeFromBuffer } = await import("file-type");
  const detected = (await fileTypeFromBuffer(bytes))?.mime ?? (isPlainText(bytes) ? "text/plain" : null);
  if (!detected || !allowed.includes(detected)) {
    throw new UnsupportedFileError(`This kind of file cannot be attached (allowed: ${allowed.join(", ")})`);
  }
  if (familyOf(detected) !== familyOf(declared)) {
    throw new UnsupportedFileError(`The file's content is ${detected}, not ${declared}`);
  }
  if (!IMAGE_TYPES.has(detected))
    return { contentType: detected, width: null, height: null, thumbnail: null };
  const { default: sharp } = await import("sharp");
  try {
    const image = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "error" });
    const metadata = await image.metadata();
    // As shown: a photo taken upright with its EXIF orientation says so.
    const width = metadata.autoOrient?.width ?? metadata.width;
    const height = metadata.autoOrient?.height ?? metadata.height;
    const thumbnail = await image
      .rotate()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside", withoutEnlargement: true })
      .webp({ quality: 75 })
      .toBuffer();
    return { contentType: detected, width: width ?? null, height: height ?? null, thumbnail };
  } catch (error) {
    throw new UnsupportedFileError(
      `The image cannot be read (damaged, or larger than ${MAX_IMAGE_PIXELS.toLocaleString("en")} pixels)`,
      { cause: error },
    );
  }
}
