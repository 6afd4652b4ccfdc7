import { CONTROL_CHARACTER_MESSAGE, noControlCharacters, text } from "./text.ts";

// The most common passwords that pass the length rule; checked case-insensitively.
// Small on purpose: this file ships to browsers with the rest of the schemas.
const COMMON_PASSWORDS = new Set([
  "0123456789",
  "0987654321",
  "1111111111",
  "1234554321",
  "1234567890",
  "12345678910",
  "1234567890a",
  "1q2w3e4r5t",
  "1q2w3e4r5t6y",
  "1qaz2wsx3edc",
  "9876543210",
  "a1234567890",
  "aaaaaaaaaa",
  "abc1234567",
  "abcd123456",
  "abcdefghij",
  "administrator",
  "asdfghjkl1",
  "baseball123",
  "changeme123",
  "computer123",
  "dragon1234",
  "football123",
  "iloveyou12",
  "iloveyou123",
  "internet123",
  "letmein123",
  "michael123",
  "monkey1234",
  "p@ssw0rd123",
  "passw0rd123",
  "password!1",
  "password12",
  "password123",
  "password1234",
  "passwordpassword",
  "princess123",
  "qazwsxedc123",
  "qwerty1234",
  "qwerty12345",
  "qwertyuiop",
  "qwertyuiop123",
  "starwars123",
  "sunshine123",
  "superman123",
  "trustno1234",
  "welcome123",
  "welcome1234",
  "whatever123",
  "zxcvbnm123",
]);

export const isCommonPassword = (password: string) => COMMON_PASSWORDS.has(password.toLowerCase());

/** A new password: 10–256 characters, not a common one. "Not the email" is checked where both are known. */
export const newPassword = text()
  .min(10, "Must be at least 10 characters")
  .max(256, "Must be at most 256 characters")
  .refine(noControlCharacters, CONTROL_CHARACTER_MESSAGE)
  .refine((value) => !isCommonPassword(value), "Is too common: choose another password");

/** A password being checked, not set: only bounded, so old passwords still work if rules tighten. */
export const givenPassword = text()
  .min(1, "Required")
  .max(256, "Must be at most 256 characters")
  .refine(noControlCharacters, CONTROL_CHARACTER_MESSAGE);
