// Element's client library (matrix-js-sdk with its Rust crypto) in the role of a person.
//
// Driven by tests/integration/test_element_client.py:
//   node element_client.mjs '<json options>'
// and prints one JSON object (the result) as its last line on stdout.
//
// mode "member":   log in, switch on "exclude insecure devices" (OnlySignedDevicesIsolationMode,
//                  MSC4153), cross-sign the own device, create an encrypted room, invite the bot,
//                  send a command and report what the bot answered and how its device is trusted.
// mode "operator": log in as the bot's account, as an operator does in Element, and
//                  "verify with recovery key": import the cross-signing keys from secret storage.

import "./node20-compat.mjs";
import * as sdk from "matrix-js-sdk";
import {
    OnlySignedDevicesIsolationMode,
    decodeRecoveryKey,
} from "matrix-js-sdk/lib/crypto-api/index.js";
import { logger } from "matrix-js-sdk/lib/logger.js";

const opts = JSON.parse(process.argv[2]);
logger.setLevel(opts.debug === "trace" ? "debug" : "error");
const deadline = Date.now() + (opts.timeoutMs ?? 45000);

function out(obj) {
    process.stdout.write(JSON.stringify(obj) + "\n");
}

function remaining() {
    return Math.max(0, deadline - Date.now());
}

async function until(what, predicate, stepMs = 100) {
    while (true) {
        const value = await predicate();
        if (value) return value;
        if (remaining() === 0) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, stepMs));
    }
}

async function login(cryptoCallbacks) {
    const bare = sdk.createClient({ baseUrl: opts.homeserver });
    const resp = await bare.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: opts.user },
        password: opts.password,
        initial_device_display_name: opts.deviceName ?? "Element (matrix-js-sdk)",
    });
    const client = sdk.createClient({
        baseUrl: opts.homeserver,
        userId: resp.user_id,
        deviceId: resp.device_id,
        accessToken: resp.access_token,
        cryptoCallbacks,
    });
    await client.initRustCrypto({ useIndexedDB: false });
    return client;
}

async function startAndWait(client) {
    const prepared = new Promise((resolve) => {
        client.on(sdk.ClientEvent.Sync, (state) => {
            if (state === "PREPARED" || state === "SYNCING") resolve();
        });
    });
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
        if (opts.debug || state === "ERROR") console.error("sync", state, data?.error?.message ?? "");
    });
    await client.startClient({ initialSyncLimit: 0, lazyLoadMembers: false });
    await prepared;
}

function uiaPassword(client) {
    return async (makeRequest) => {
        await makeRequest({
            type: "m.login.password",
            identifier: { type: "m.id.user", user: client.getUserId() },
            password: opts.password,
        });
    };
}

async function trustOf(crypto, userId) {
    const devices = await crypto.getUserDeviceInfo([userId], true);
    const result = {};
    for (const [deviceId] of devices.get(userId) ?? new Map()) {
        const status = await crypto.getDeviceVerificationStatus(userId, deviceId);
        result[deviceId] = {
            signedByOwner: status?.signedByOwner ?? false,
            crossSigningVerified: status?.crossSigningVerified ?? false,
        };
    }
    return result;
}

async function member() {
    const client = await login();
    const crypto = client.getCrypto();
    crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
    await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: uiaPassword(client) });
    await startAndWait(client);

    const botMessages = [];
    const seen = new Set();
    const record = (event) => {
        if (event.getSender() !== opts.botUser || seen.has(event.getId())) return;
        if (event.isBeingDecrypted() || event.shouldAttemptDecryption()) return;
        seen.add(event.getId());
        botMessages.push({
            eventId: event.getId(),
            type: event.getType(),
            body: event.getContent()?.body ?? null,
            decryptionFailure: event.isDecryptionFailure(),
            failureReason: event.decryptionFailureReason ?? null,
            inReplyTo: event.getContent()?.["m.relates_to"]?.["m.in_reply_to"]?.event_id ?? null,
        });
    };
    client.on(sdk.MatrixEventEvent.Decrypted, record);
    client.on(sdk.RoomEvent.Timeline, (event) => {
        if (event.getType() === "m.room.message") record(event);
    });

    const { room_id: roomId } = await client.createRoom({
        name: "Steuerungsgruppe (Element)",
        invite: [opts.botUser],
        initial_state: [
            {
                type: "m.room.encryption",
                state_key: "",
                content: { algorithm: "m.megolm.v1.aes-sha2" },
            },
        ],
    });
    await until("the bot to join", () => {
        const m = client.getRoom(roomId)?.getMember(opts.botUser);
        if (opts.debug) console.error("bot membership", !!client.getRoom(roomId), m?.membership);
        return m?.membership === "join";
    }, 500);
    const botDevices = await trustOf(crypto, opts.botUser);
    const sent = await client.sendMessage(roomId, { msgtype: "m.text", body: opts.command });
    let error = null;
    try {
        await until("the bot's answer", () => botMessages.length > 0);
    } catch (e) {
        error = String(e);
    }
    // Give a failed decryption's retry (key arriving late) a moment, then report.
    await new Promise((r) => setTimeout(r, 300));
    const ownTrust = (await trustOf(crypto, client.getUserId()))[client.getDeviceId()];
    client.stopClient();
    return {
        roomId,
        commandEventId: sent.event_id,
        ownDeviceCrossSigned: ownTrust,
        botDevices,
        botMessages,
        error,
    };
}

async function operator() {
    let keyId = null;
    const key = decodeRecoveryKey(opts.recoveryKey);
    const client = await login({
        getSecretStorageKey: async ({ keys }) => {
            keyId = Object.keys(keys)[0];
            return [keyId, key];
        },
    });
    const crypto = client.getCrypto();
    await startAndWait(client);
    await crypto.userHasCrossSigningKeys(client.getUserId(), true);
    // What Element does for "Verify with recovery key": keys from 4S, then sign this device.
    await crypto.bootstrapCrossSigning({});
    const status = await crypto.getCrossSigningStatus();
    const masterKey = await crypto.getCrossSigningKeyId();
    await new Promise((r) => setTimeout(r, 300));
    const own = await trustOf(crypto, client.getUserId());
    client.stopClient();
    return {
        deviceId: client.getDeviceId(),
        secretStorageKeyId: keyId,
        crossSigningStatus: status,
        masterKey,
        ownDevices: own,
    };
}

try {
    const result = opts.mode === "operator" ? await operator() : await member();
    out({ ok: true, ...result });
    process.exit(0);
} catch (e) {
    out({ ok: false, error: String(e?.stack ?? e) });
    process.exit(1);
}
