// Imported first by main.ts, so it runs before any module that reads NODE_ENV as it loads (Elysia
// does, once): the service runs as production unless the environment says otherwise. The binary
// has it built in too (scripts/build.ts). Either way server.ts listens with development: false, so
// no runtime error page (stack, paths, source lines) can reach an answer.
process.env["NODE_ENV"] ??= "production"; // bracketed: the build's --define of process.env.NODE_ENV must not turn this into "production" ??= …
