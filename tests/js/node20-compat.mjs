// matrix-js-sdk 43 declares Node >= 22; on Node 20 the only thing it misses is
// Promise.withResolvers (ES2024). Imported before the SDK so it is there from the start.
if (typeof Promise.withResolvers !== "function") {
    Promise.withResolvers = function withResolvers() {
        let resolve;
        let reject;
        const promise = new this((res, rej) => {
            resolve = res;
            reject = rej;
        });
        return { promise, resolve, reject };
    };
}
