// Call one named endpoint of a running Gradio app with the official JavaScript client, the way a
// JavaScript user would, and print what came back as one line of JSON on stdout.
//
//   node tests/js/call_endpoint.mjs http://127.0.0.1:7860/ /tokenize '{"text": "The cat sat on the mat."}'
//
// Prints {"ok": true, "data": [...]} (the endpoint's outputs, in order) and exits 0, or
// {"ok": false, "error": "<message>"} and exits 1. The client is @gradio/client, vendored in
// ./vendor (see vendor/README.md), so nothing is installed or downloaded at test time.
// Named arguments go through the client's own mapping onto the endpoint's parameters: it fills
// in the defaults that /gradio_api/info advertises and refuses a missing required argument.

import { Client } from "./vendor/gradio-client-2.7.0.mjs";

const [url, endpoint, rawArgs = "{}"] = process.argv.slice(2);

function finish(result, code) {
	process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(code));
}

if (!url || !endpoint) {
	finish({ ok: false, error: "usage: node call_endpoint.mjs <base url> </endpoint> ['{json named args}']" }, 2);
} else {
	let client;
	try {
		const args = JSON.parse(rawArgs);
		if (args === null || typeof args !== "object" || Array.isArray(args)) {
			throw new Error("the arguments must be a JSON object of named arguments");
		}
		client = await Client.connect(url, { events: ["data", "status"], record_history: false });
		const result = await client.predict(endpoint, args);
		finish({ ok: true, data: result.data }, 0);
	} catch (error) {
		finish({ ok: false, error: error instanceof Error ? error.message : String(error) }, 1);
	} finally {
		client?.close();
	}
}
