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
// mode "watch":    as "member" (strict device policy, encrypted room with the bot), but the
//                  command is written in a thread (as Element does) and the bot's answer
//                  looked for there; prints {"ready": …} once the bot answered, then waits
//                  for `expect` (polls, ended polls, edited messages) and reports what
//                  matrix-js-sdk made of the bot's events: threads, polls, edits.
// mode "voter":    as "member", but joins the room `roomId` it was invited to, prints
//                  {"ready": …}, answers the bot's first poll with answer number
//                  `answerIndex` exactly as Element sends a vote, and reports once the poll
//                  has ended what matrix-js-sdk shows: the poll, its end, its end text.
// mode "image":    as "voter" up to {"ready": …}; then waits for the bot's first picture
//                  and reports what matrix-js-sdk made of it (its decrypted content: an
//                  m.image or not, its info), with the picture and its thumbnail downloaded
//                  and decrypted as Element does (AES-256-CTR after checking the SHA-256),
//                  and the width and height their PNG headers give.

import "./node20-compat.mjs";
import * as sdk from "matrix-js-sdk";
import { PollEvent } from "matrix-js-sdk/lib/models/poll.js";
import { PollResponseEvent } from "matrix-js-sdk/lib/extensible_events_v1/PollResponseEvent.js";
import {
    OnlySignedDevicesIsolationMode,
    decodeRecoveryKey,
} from "matrix-js-sdk/lib/crypto-api/index.js";
import { logger } from "matrix-js-sdk/lib/logger.js";
import { createDecipheriv, createHash } from "node:crypto";

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
        // The bot's greeting on joining the room is no answer.
        if (event.getContent()?.["org.gremienbot.greeting"]) return;
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

async function watch() {
    const client = await login();
    const crypto = client.getCrypto();
    crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
    await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: uiaPassword(client) });
    const prepared = new Promise((resolve) => {
        client.on(sdk.ClientEvent.Sync, (state) => {
            if (state === "PREPARED" || state === "SYNCING") resolve();
        });
    });
    // Threads as Element shows them: thread replies live in the thread's own timeline.
    await client.startClient({ initialSyncLimit: 0, lazyLoadMembers: false, threadSupport: true });
    await prepared;

    const botEvents = new Map();
    const polls = new Map();
    const note = (event) => {
        if (event.getSender() !== opts.botUser) return;
        if (event.isBeingDecrypted() || event.shouldAttemptDecryption()) return;
        botEvents.set(event.getId(), event);
    };
    client.on(sdk.MatrixEventEvent.Decrypted, note);
    client.on(sdk.RoomEvent.Timeline, note);

    const { room_id: roomId } = await client.createRoom({
        name: "Steuerungsgruppe (Element, Threads)",
        invite: [opts.botUser],
        initial_state: [
            {
                type: "m.room.encryption",
                state_key: "",
                content: { algorithm: "m.megolm.v1.aes-sha2" },
            },
        ],
    });
    const room = await until("the room", () => client.getRoom(roomId));
    room.on(PollEvent.New, (poll) => polls.set(poll.pollId, poll));
    await until("the bot to join", () => room.getMember(opts.botUser)?.membership === "join", 500);

    const root = await client.sendMessage(roomId, { msgtype: "m.text", body: opts.rootText });
    await until("the thread root", () => room.findEventById(root.event_id));
    // sendMessage with a thread ID adds what Element adds: the m.thread relation and the
    // reply fallback to the thread's latest event.
    const command = await client.sendMessage(roomId, root.event_id, {
        msgtype: "m.text",
        body: opts.command,
    });
    const threadAnswer = await until("the bot's answer in the thread", () =>
        [...botEvents.values()].find((e) => e.threadRootId === root.event_id),
    );
    out({ ready: true, roomId, rootEventId: root.event_id, commandEventId: command.event_id });

    const expect = opts.expect ?? {};
    const edited = () => [...botEvents.values()].filter((e) => e.replacingEvent());
    await until("what the test expects", () => {
        const all = [...polls.values()];
        return (
            all.length >= (expect.polls ?? 0) &&
            all.filter((p) => p.isEnded).length >= (expect.endedPolls ?? 0) &&
            edited().length >= (expect.edited ?? 0)
        );
    });
    await new Promise((r) => setTimeout(r, 300));

    const thread = room.getThread(root.event_id);
    const inThread = new Set((thread?.liveTimeline.getEvents() ?? []).map((e) => e.getId()));
    const inMain = new Set(room.getLiveTimeline().getEvents().map((e) => e.getId()));
    const relation = (e) => e.getWireContent()?.["m.relates_to"] ?? e.getContent()?.["m.relates_to"] ?? null;
    client.stopClient();
    return {
        roomId,
        rootEventId: root.event_id,
        commandEventId: command.event_id,
        threadAnswer: {
            eventId: threadAnswer.getId(),
            body: threadAnswer.getContent()?.body ?? null,
            threadRootId: threadAnswer.threadRootId ?? null,
            relation: relation(threadAnswer),
            inThreadTimeline: inThread.has(threadAnswer.getId()),
            inMainTimeline: inMain.has(threadAnswer.getId()),
        },
        polls: [...polls.values()].map((p) => ({
            eventId: p.pollId,
            type: p.rootEvent.getType(),
            question: p.pollEvent.question.text,
            answers: p.pollEvent.answers.map((a) => ({ id: a.id, text: a.text })),
            kind: p.pollEvent.kind.name,
            maxSelections: p.pollEvent.maxSelections,
            isEnded: p.isEnded,
            endEventId: p.endEventId ?? null,
            endText: p.endEvent?.getContent()?.["org.matrix.msc1767.text"] ?? null,
        })),
        edited: edited().map((e) => ({
            eventId: e.getId(),
            body: e.getContent()?.body ?? null,
            replacedBy: e.replacingEventId() ?? e.replacingEvent()?.getId() ?? null,
        })),
        botEvents: [...botEvents.values()].map((e) => ({
            eventId: e.getId(),
            type: e.getType(),
            decryptionFailure: e.isDecryptionFailure(),
        })),
    };
}

async function voter() {
    const client = await login();
    const crypto = client.getCrypto();
    crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
    await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: uiaPassword(client) });
    await startAndWait(client);
    const polls = new Map();
    await until("the invitation", () => client.getRoom(opts.roomId), 200);
    await client.joinRoom(opts.roomId);
    const room = await until("the room", () => client.getRoom(opts.roomId));
    room.on(PollEvent.New, (poll) => {
        if (poll.rootEvent.getSender() === opts.botUser) polls.set(poll.pollId, poll);
    });
    out({ ready: true });
    const poll = await until("the bot's poll", () => [...polls.values()][0], 200);
    const answer = poll.pollEvent.answers[opts.answerIndex];
    const { type, content } = PollResponseEvent.from([answer.id], poll.pollId).serialize();
    const sent = await client.sendEvent(opts.roomId, type, content);
    out({ voted: sent.event_id, answerId: answer.id, responseType: type });
    await until("the poll's end", () => poll.isEnded, 250);
    await new Promise((r) => setTimeout(r, 300));
    client.stopClient();
    return {
        pollId: poll.pollId,
        type: poll.rootEvent.getType(),
        question: poll.pollEvent.question.text,
        kind: poll.pollEvent.kind.name,
        endEventId: poll.endEventId ?? null,
        endText: poll.endEvent?.getContent()?.["org.matrix.msc1767.text"] ?? null,
        decryptionFailure: poll.rootEvent.isDecryptionFailure(),
    };
}

function unpaddedBase64(bytes) {
    return Buffer.from(bytes).toString("base64").replace(/=+$/, "");
}

async function media(client, mxc) {
    // Authenticated media (MSC3916), as Element fetches it.
    const url = client.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true);
    const resp = await fetch(url, { headers: { Authorization: `Bearer ${client.getAccessToken()}` } });
    if (!resp.ok) throw new Error(`downloading ${mxc} failed: ${resp.status}`);
    return Buffer.from(await resp.arrayBuffer());
}

// An EncryptedFile (m.image's `file`, `info.thumbnail_file`) downloaded and decrypted.
async function decrypted(client, file) {
    const stored = await media(client, file.url);
    const hashOk = unpaddedBase64(createHash("sha256").update(stored).digest()) ===
        file.hashes.sha256.replace(/=+$/, "");
    const key = Buffer.from(file.key.k, "base64url");
    const iv = Buffer.from(file.iv, "base64");
    const decipher = createDecipheriv("aes-256-ctr", key, iv);
    const plain = Buffer.concat([decipher.update(stored), decipher.final()]);
    const png = plain.subarray(0, 8).equals(Buffer.from("89504e470d0a1a0a", "hex"));
    return {
        hashOk,
        size: plain.length,
        png,
        w: png ? plain.readUInt32BE(16) : null,
        h: png ? plain.readUInt32BE(20) : null,
        keyAlg: file.key.alg,
        k: file.key.k,
    };
}

async function image() {
    const client = await login();
    const crypto = client.getCrypto();
    crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
    await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: uiaPassword(client) });
    await startAndWait(client);
    await until("the invitation", () => client.getRoom(opts.roomId), 200);
    await client.joinRoom(opts.roomId);
    const room = await until("the room", () => client.getRoom(opts.roomId));
    out({ ready: true });
    const picture = await until("the bot's picture", () =>
        room.getLiveTimeline().getEvents().find((e) =>
            e.getSender() === opts.botUser &&
            !e.isBeingDecrypted() &&
            !e.shouldAttemptDecryption() &&
            ["m.image", "m.file"].includes(e.getContent()?.msgtype)
        ), 200);
    const content = picture.getContent();
    const info = content.info ?? {};
    const result = {
        eventId: picture.getId(),
        encrypted: picture.isEncrypted(),
        decryptionFailure: picture.isDecryptionFailure(),
        msgtype: content.msgtype,
        isImage: content.msgtype === sdk.MsgType.Image,
        body: content.body ?? null,
        filename: content.filename ?? null,
        info: { w: info.w ?? null, h: info.h ?? null, mimetype: info.mimetype ?? null,
            size: info.size ?? null, thumbnailInfo: info.thumbnail_info ?? null },
        plainUrls: [content.url, info.thumbnail_url].filter((u) => u !== undefined),
        image: content.file ? await decrypted(client, content.file) : null,
        thumbnail: info.thumbnail_file ? await decrypted(client, info.thumbnail_file) : null,
    };
    client.stopClient();
    return result;
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
    const modes = { operator, watch, member, voter, image };
    const result = await (modes[opts.mode] ?? member)();
    out({ ok: true, ...result });
    process.exit(0);
} catch (e) {
    out({ ok: false, error: String(e?.stack ?? e) });
    process.exit(1);
}
