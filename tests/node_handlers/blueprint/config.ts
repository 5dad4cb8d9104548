// Configuration from the function's environment, as the blueprints keep it.
export default {
  region: process.env.AWS_REGION ?? "us-east-1",
  // Where the latest presence of each user is kept; unset: not kept.
  presenceTable: process.env.PRESENCE_TABLE ?? "",
};
