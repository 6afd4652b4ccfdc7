import { crc32, deflateSync } from "node:zlib";
import type { SignedUp } from "@parley/testing/accounts";

/** A real PNG of the given size (a gradient), so that the server's decoder and thumbnailer have work. */
export function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows.set([(x * 255) / width, (y * 255) / height, 128], row + 1 + x * 3);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A minimal PDF: its first bytes are what file-type looks for. */
export const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
);

/**
 * A stored upload made the way a tool makes one (`chat.attachments.create`, then the bytes PUT
 * with the account's bearer token), ready to go on a message.
 */
export async function uploadAs(
  serverUrl: string,
  user: SignedUp,
  roomId: string,
  file: { name: string; contentType: "image/png" | "application/pdf"; bytes: Buffer },
): Promise<string> {
  const created = await user.api.chat.attachments.create.mutate({
    roomId,
    name: file.name,
    size: file.bytes.length,
    contentType: file.contentType,
  });
  const put = await fetch(new URL(created.uploadUrl, serverUrl), {
    method: "PUT",
    headers: { authorization: `Bearer ${user.token}` },
    body: new Uint8Array(file.bytes),
  });
  if (put.status !== 200) throw new Error(`upload of ${file.name}: ${put.status} ${await put.text()}`);
  return created.attachmentId;
}
