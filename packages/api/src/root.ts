import { adminRouter } from "./router/admin.ts";
import { authRouter } from "./router/auth.ts";
import { chatRouter } from "./router/chat.ts";
import { formsRouter } from "./router/forms.ts";
import { router } from "./trpc.ts";

export const appRouter = router({
  auth: authRouter,
  chat: chatRouter,
  forms: formsRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
