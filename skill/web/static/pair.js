"use strict";
// Pairing: ask the coach to speak a code, then send the code back. A QR link carries a
// one-use code after '#code=' (never sent to the server in the address, so never logged).
const message = document.getElementById("message");
const input = document.getElementById("code");

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, data };
}

document.getElementById("ask").addEventListener("click", async () => {
  const { ok, data } = await post("/pair/request");
  message.textContent = ok ? "Listen: the coach is saying your code." : data.error;
  input.focus();
});

async function pair(code) {
  const { ok, data } = await post("/pair", { code });
  if (ok) {
    location.replace("/");
  } else {
    message.textContent = data.error || "pairing failed";
  }
}

document.getElementById("form").addEventListener("submit", (event) => {
  event.preventDefault();
  pair(input.value);
});

const fromQr = new URLSearchParams(location.hash.slice(1)).get("code");
if (fromQr) {
  history.replaceState(null, "", "/");
  pair(fromQr);
}
