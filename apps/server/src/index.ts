export { type Config, ConfigError, type ConfigOverrides, configWith, loadConfig } from "./config.ts";
export {
  type ParleyServer,
  type ParleyServerOptions,
  type ServerRuntime,
  startParleyServer,
} from "./parley-server.ts";
export { defaultLimits, type ServerLimits } from "./server-limits.ts";
