/** The connection card: PAPER / LIVE / OFFLINE, client id, host:port, program, accounts. */
import type { ConnectionStatus } from "../../connection/connection";
import type { Card } from "../card";
import { cardView, type View } from "./view";

export interface ConnectionSnapshot {
  status: ConnectionStatus;
  /** Whether orders would go to real money. */
  isLive: boolean;
}

/** PAPER or LIVE while a session exists (stale included: it is still that account), else OFFLINE. */
function connectionBadge({ status, isLive }: ConnectionSnapshot): NonNullable<Card["badge"]> {
  if (status.state !== "connected" && status.state !== "stale") return { text: "OFFLINE", tone: "offline" };
  return isLive ? { text: "LIVE", tone: "live" } : { text: "PAPER", tone: "paper" };
}

function endpoint(status: ConnectionStatus): string {
  return `${status.host}:${status.port ?? "–"}`;
}

export const connectionView: View<ConnectionSnapshot> = cardView(
  (snapshot) => {
    const { status, isLive } = snapshot;
    const stateLine = status.state === "connected" ? "connected" : `${status.state}: ${status.reason}`;
    return {
      card: {
        title: `Interactive Brokers · ${stateLine}`,
        badge: connectionBadge(snapshot),
        fields: [
          { label: "Client id", value: status.clientId },
          { label: "Host", value: endpoint(status) },
          ...(status.kind === "unknown" ? [] : [{ label: "Program", value: status.kind }]),
          { label: "Accounts", value: status.accounts.join(", ") },
          { label: "Server version", value: status.serverVersion },
          { label: "Since", value: status.since, kind: "datetime" },
        ],
        note: isLive ? "Live account: orders go to real money." : undefined,
      },
    };
  },
  (snapshot) => {
    const { status } = snapshot;
    const badge = connectionBadge(snapshot).text;
    const who = status.clientId === undefined ? "" : `client ${status.clientId} @ `;
    const accounts = status.accounts.length ? `, accounts ${status.accounts.join(", ")}` : "";
    return `IB ${badge} ${status.state}: ${who}${endpoint(status)}${status.kind === "unknown" ? "" : ` (${status.kind})`}${accounts}`;
  },
);
