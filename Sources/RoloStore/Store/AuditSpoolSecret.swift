import GRDB

/// The per-database secret that seals lines of the audit spool (`FILE-audit-spool`) when the
/// audit log has no key: kept in `rolo_meta`, so only someone who can read the database can make
/// a line the next writer accepts (and someone who can write the database can rewrite an unkeyed
/// chain anyway). With `ROLO_AUDIT_KEY` the seal is derived from the key and this secret together.
/// Created with the database, or by the first write of an older one.
public enum AuditSpoolSecret {
    static let metaKey = "audit_spool_secret"
    /// 32 random bytes, kept as 64 hex digits.
    static let length = 32

    /// The secret, or nil when this database has none yet.
    public static func read(_ db: Database) throws -> [UInt8]? {
        let query = Select(Select.columns(["value"]), from: "rolo_meta").where(Sql.equals(Sql.name("key"), Sql.value(metaKey)))
        guard let hex = try String.fetchOne(db, query.sql) else { return nil }
        return decode(hex)
    }

    /// The secret, created now if there is none (the caller holds the write lock: the insert
    /// commits or rolls back with the caller's transaction).
    public static func ensure(_ db: Database) throws -> [UInt8] {
        if let secret = try read(db) { return secret }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let hex = secret.map { byte in String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }
            .joined()
        try db.execute(Insert(into: "rolo_meta", [("key", metaKey.databaseValue), ("value", hex.databaseValue)]).sql)
        return secret
    }

    private static func decode(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count >= 32, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
