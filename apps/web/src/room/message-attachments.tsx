import { formatSize, THUMBNAIL_BOX, thumbnailSize } from "./attachment-sizes.ts";
import type { ListedMessage } from "./timeline-state.ts";

type AttachmentView = ListedMessage["attachments"][number];

function fileIcon(contentType: string): string {
  if (contentType === "application/pdf") return "📕";
  if (contentType.startsWith("text/")) return "📝";
  return "📄";
}

/** A message's files: images as thumbnails that open full size, anything else as a download chip. */
export function MessageAttachments({ attachments }: { attachments: readonly AttachmentView[] }) {
  if (attachments.length === 0) return null;
  const images = attachments.filter((a) => a.contentType.startsWith("image/"));
  const files = attachments.filter((a) => !a.contentType.startsWith("image/"));
  return (
    <div className="message-attachments">
      {images.length > 0 && (
        <ul className="attachment-images" aria-label="Images">
          {images.map((image) => {
            const size =
              image.width && image.height
                ? thumbnailSize(image.width, image.height)
                : { width: THUMBNAIL_BOX, height: THUMBNAIL_BOX };
            return (
              <li key={image.id}>
                <a className="attachment-image" href={image.url} target="_blank" rel="noopener">
                  <img
                    src={image.thumbnailUrl ?? image.url}
                    alt={image.name}
                    width={size.width}
                    height={size.height}
                    loading="lazy"
                    decoding="async"
                  />
                  <span className="visually-hidden"> (open full size, {formatSize(image.size)})</span>
                </a>
              </li>
            );
          })}
        </ul>
      )}
      {files.length > 0 && (
        <ul className="attachment-files" aria-label="Files">
          {files.map((file) => (
            <li key={file.id}>
              <a className="attachment-chip" href={file.url} download={file.name}>
                <span aria-hidden="true">{fileIcon(file.contentType)}</span>
                <span className="visually-hidden">Download </span>
                <span className="attachment-name">{file.name}</span>{" "}
                <span className="muted attachment-size">{formatSize(file.size)}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
