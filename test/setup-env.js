// Request logs go to stderr; tests keep them quiet unless asked for (SKR_LOG_LEVEL=info npm test).
process.env.SKR_LOG_LEVEL = process.env.SKR_LOG_LEVEL || 'silent';
