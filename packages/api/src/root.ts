import { authRouter } from "./router/auth.ts";
import { chatRouter } from "./router/chat.ts";
import { router } from "./trpc.ts";

export const appRouter = router({
  auth: authRouter,
  chat: chatRouter,
});

export type AppRouter = typeof appRouter;
