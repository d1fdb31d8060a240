/** The TWS wire codec, apart from any model: framing, fields, versions, messages both ways. */
export * from "./fields";
export * from "./framing";
export * from "./messages";
export * from "./parser";
export * from "./serializer";
export * from "./versions";
