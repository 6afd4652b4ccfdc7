export { type Config, ConfigError, loadConfig } from "./config.ts";
export {
  defaultLimits,
  type ParleyServer,
  type ParleyServerOptions,
  type ServerLimits,
  startParleyServer,
} from "./parley-server.ts";
