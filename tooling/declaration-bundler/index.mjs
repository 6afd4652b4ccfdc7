// Rolls a package's emitted .d.ts files into one. A package of its own because rollup-plugin-dts
// drives TypeScript's JavaScript compiler API, which TypeScript 7 (the workspace's `tsc`, native)
// no longer ships: its peer `typescript` resolves here to 5.9, and nowhere else in the workspace.
export { rollup } from "rollup";
export { dts } from "rollup-plugin-dts";
