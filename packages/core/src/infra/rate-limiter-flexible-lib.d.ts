// rate-limiter-flexible's own files, one class each (module.exports = the class), typed from the
// package's index. Imported one by one instead of through the index, which requires every limiter
// the package ships: RateLimiterCluster among them loads node:cluster and node:child_process, about
// 7 ms of every server start for a limiter Parley does not use. The package has no "exports" map,
// so Node resolves these paths as it does its index.
declare module "rate-limiter-flexible/lib/RateLimiterMemory.js" {
  import { RateLimiterMemory } from "rate-limiter-flexible";
  export = RateLimiterMemory;
}
declare module "rate-limiter-flexible/lib/RateLimiterRedis.js" {
  import { RateLimiterRedis } from "rate-limiter-flexible";
  export = RateLimiterRedis;
}
declare module "rate-limiter-flexible/lib/RateLimiterRes.js" {
  import { RateLimiterRes } from "rate-limiter-flexible";
  export = RateLimiterRes;
}
