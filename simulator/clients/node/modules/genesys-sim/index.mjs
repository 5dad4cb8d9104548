import helper from "./index.cjs";

export const { DownstreamError, key, reportEffect, ttl } = helper;
export default helper;
