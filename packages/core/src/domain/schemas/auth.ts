import { z } from "zod";
import { givenPassword, newPassword } from "./password.ts";
import { emailAddress, opaqueToken, singleLine, text } from "./text.ts";

const passwordIsNotEmail = (password: string, email: string) =>
  password.trim().toLowerCase() !== email.trim().toLowerCase();
const PASSWORD_IS_EMAIL = "Must not be your email address";

export const registerInput = z
  .object({
    email: emailAddress,
    password: newPassword,
    displayName: singleLine(1, 80),
  })
  .superRefine((value, ctx) => {
    if (!passwordIsNotEmail(value.password, value.email)) {
      ctx.addIssue({ code: "custom", path: ["password"], message: PASSWORD_IS_EMAIL });
    }
  });

export const loginInput = z.object({ email: emailAddress, password: givenPassword });

export const verifyEmailInput = z.object({ token: opaqueToken });

export const requestPasswordResetInput = z.object({ email: emailAddress });

export const resetPasswordInput = z.object({ token: opaqueToken, password: newPassword });

export const changePasswordInput = z
  .object({ currentPassword: givenPassword, newPassword })
  .refine((value) => value.currentPassword !== value.newPassword, {
    path: ["newPassword"],
    message: "Must differ from the current password",
  });

export const revokeSessionInput = z.object({
  sessionId: text().regex(/^[0-9a-f]{32}$/, "Is not a session id"),
});

export type RegisterInput = z.infer<typeof registerInput>;
export type LoginInput = z.infer<typeof loginInput>;
export type ChangePasswordInput = z.infer<typeof changePasswordInput>;
