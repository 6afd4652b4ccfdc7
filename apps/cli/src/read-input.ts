import { createInterface } from "node:readline";
import type { CliIo } from "./cli-context.ts";

/** A line typed at a prompt (echoed): for an email address. */
export async function prompt(io: CliIo, question: string): Promise<string> {
  const lines = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    return await new Promise((resolve) => lines.question(question, resolve));
  } finally {
    lines.close();
  }
}

/**
 * A secret: typed without echo on a terminal, or the first line of piped input. Never an
 * argument: the command line shows in `ps` and in shell history.
 */
export async function readSecret(io: CliIo, question: string): Promise<string> {
  const stdin = io.stdin;
  if (!stdin.isTTY) {
    let text = "";
    for await (const chunk of stdin) {
      text += String(chunk);
      if (text.includes("\n")) break;
    }
    return text.split(/\r?\n/)[0] ?? "";
  }
  io.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = "";
      const onData = (chunk: string) => {
        for (const character of chunk) {
          if (character === "\r" || character === "\n") {
            stdin.off("data", onData);
            resolve(typed);
            return;
          }
          if (character === "\u0003") {
            stdin.off("data", onData);
            reject(new Error("cancelled"));
            return;
          }
          typed = character === "\u007f" ? typed.slice(0, -1) : typed + character;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    io.stderr.write("\n");
  }
}
