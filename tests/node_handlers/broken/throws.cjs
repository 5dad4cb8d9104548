const table = process.env.GENESYS_SIM_TEST_NO_SUCH_VARIABLE;
if (!table) throw new Error("TABLE_NAME is not set");
exports.handler = async () => ({});
