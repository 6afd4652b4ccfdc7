import { QueryClientProvider } from "@tanstack/react-query";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { createParley, ParleyContext, TRPCProvider } from "./parley.ts";

const parley = createParley(window.location.origin);
const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");

createRoot(root).render(
  <ParleyContext.Provider value={parley}>
    <QueryClientProvider client={parley.queryClient}>
      <TRPCProvider trpcClient={parley.client} queryClient={parley.queryClient}>
        <App />
      </TRPCProvider>
    </QueryClientProvider>
  </ParleyContext.Provider>,
);
