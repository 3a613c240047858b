import Foundation

/// Rolo's application functions as PostgreSQL functions, answering as the Swift functions that
/// SQLite calls do (`TextFolding`, `MoneyFunctions`): a query compiled for either backend finds
/// the same rows.
///
/// - `rolo_fold(text)`: NFKC, case folding, NFKC (`TextFolding.fold`). ASCII text is lower-cased
///   by `translate` (never `lower()`, whose answer depends on the database's locale).
/// - `rolo_match_key(text)`: folded, accents and other marks aside (`TextFolding.matchKey`).
/// - `rolo_match(text, needle, mode)`: contains (0), starts with (1), ends with (2) over match keys.
/// - `rolo_money_mul(cents, factor)`, `rolo_money_div(cents, divisor)`: in numeric, rounded
///   half-even to the cent; a zero divisor gives NULL; past the bigint range an error (22003).
/// - `rolo_int(value)`: a whole number, a real rounded half-even, or an error (22003) past ±2⁶³;
///   text that is not an integer gives NULL.
///
/// The folding tables are not written by hand: they are the Swift functions' own answers, one
/// Unicode scalar at a time, for every scalar that either changes (`foldMap`, `matchKeyMap`), so
/// both backends use one definition. PostgreSQL's `translate` maps a character to one character
/// (or deletes it: the characters past the end of the second list); the few that become several
/// characters (`ß` → `ss`) are `replace` calls. Function bodies cannot take bound values, so the
/// tables are spelled as literals through `PostgresSQL.literal`.
public enum PostgresFunctions {
    /// The DDL creating every function in `schema` (already existing ones replaced).
    public static func definitions(schema: String) -> [String] {
        let s = PostgresSQL.identifier(schema)
        let asciiUpper = PostgresSQL.literal("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let asciiLower = PostgresSQL.literal("abcdefghijklmnopqrstuvwxyz")
        return [
            """
            CREATE OR REPLACE FUNCTION \(s).rolo_fold(t text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $rolo$
            SELECT CASE WHEN octet_length(t) = char_length(t) THEN translate(t, \(asciiUpper), \(asciiLower))
            ELSE normalize(\(mapped("normalize(t, NFKC)", foldTable)), NFKC) END
            $rolo$
            """,
            """
            CREATE OR REPLACE FUNCTION \(s).rolo_match_key(t text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $rolo$
            SELECT CASE WHEN octet_length(t) = char_length(t) THEN translate(t, \(asciiUpper), \(asciiLower))
            ELSE normalize(\(mapped("normalize(t, NFKC)", matchKeyTable)), NFKC) END
            $rolo$
            """,
            """
            CREATE OR REPLACE FUNCTION \(s).rolo_match(t text, needle text, mode bigint) RETURNS boolean
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $rolo$
            SELECT CASE mode
              WHEN 0 THEN strpos(\(s).rolo_match_key(t), needle) > 0
              WHEN 1 THEN left(\(s).rolo_match_key(t), char_length(needle)) = needle
              WHEN 2 THEN char_length(needle) <= char_length(\(s).rolo_match_key(t)) AND right(\(s).rolo_match_key(t), char_length(needle)) = needle
            END
            $rolo$
            """,
            """
            CREATE OR REPLACE FUNCTION \(s).rolo_round_half_even(x numeric) RETURNS numeric
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $rolo$
            SELECT CASE WHEN abs(x - trunc(x)) = 0.5 THEN 2 * round(x / 2) ELSE round(x) END
            $rolo$
            """,
            roundedWhole(s, "rolo_cents", overflow: "rolo: amount of money out of range"),
            """
            CREATE OR REPLACE FUNCTION \(s).rolo_money_mul(cents numeric, factor numeric) RETURNS bigint
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $rolo$
            SELECT \(s).rolo_cents(cents * factor)
            $rolo$
            """,
            """
            CREATE OR REPLACE FUNCTION \(s).rolo_money_div(cents numeric, divisor numeric) RETURNS bigint
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $rolo$
            SELECT CASE WHEN divisor = 0 THEN NULL ELSE \(s).rolo_cents(cents / divisor) END
            $rolo$
            """,
            """
            CREATE OR REPLACE FUNCTION \(s).rolo_int(x bigint) RETURNS bigint
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $rolo$ SELECT x $rolo$
            """,
            """
            CREATE OR REPLACE FUNCTION \(s).rolo_int(x double precision) RETURNS bigint
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $rolo$
            BEGIN
              IF x = 'NaN'::double precision OR abs(x) >= 9.223372036854775807e18 THEN
                RAISE EXCEPTION 'rolo: integer overflow' USING ERRCODE = '22003';
              END IF;
              RETURN \(s).rolo_round_half_even(x::numeric)::bigint;
            END
            $rolo$
            """,
            roundedWhole(s, "rolo_int", overflow: "rolo: integer overflow"),
            """
            CREATE OR REPLACE FUNCTION \(s).rolo_int(x text) RETURNS bigint
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $rolo$
            SELECT CASE WHEN x ~ '^[+-]?[0-9]{1,19}$'
              AND x::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN x::bigint END
            $rolo$
            """,
        ]
    }

    /// `name(x numeric)`: `x` rounded half-even to a whole number, or the error `overflow`
    /// (22003) past the bigint range.
    static func roundedWhole(_ schema: String, _ name: String, overflow: String) -> String {
        """
        CREATE OR REPLACE FUNCTION \(schema).\(name)(x numeric) RETURNS bigint
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $rolo$
        DECLARE r numeric := \(schema).rolo_round_half_even(x);
        BEGIN
          IF abs(r) > 9223372036854775807 THEN
            RAISE EXCEPTION \(PostgresSQL.literal(overflow)) USING ERRCODE = '22003';
          END IF;
          RETURN r::bigint;
        END
        $rolo$
        """
    }

    /// One scalar's image under a folding: what it becomes (possibly nothing, possibly several
    /// characters), for the scalars it changes.
    public typealias Table = [(from: Unicode.Scalar, to: String)]

    /// `TextFolding.fold`'s case folding, scalar by scalar: every scalar that the folding changes
    /// (ASCII capitals too: text with any non-ASCII character takes this path whole).
    public static let foldTable: Table = table { String($0).folding(options: [.caseInsensitive], locale: nil) }

    /// `TextFolding.matchKey`, scalar by scalar: every scalar that it changes.
    public static let matchKeyTable: Table = table { TextFolding.matchKey(String($0)) }

    /// `expression` with `table` applied: one `translate` for the scalars that become one scalar
    /// or nothing, then a `replace` for each that becomes several.
    static func mapped(_ expression: String, _ table: Table) -> String {
        var from = "", to = "", deleted = ""
        var expanded: [(String, String)] = []
        for (scalar, image) in table {
            if image.isEmpty {
                deleted.unicodeScalars.append(scalar)
            } else if image.unicodeScalars.count == 1 {
                from.unicodeScalars.append(scalar)
                to += image
            } else {
                expanded.append((String(scalar), image))
            }
        }
        var text = "translate(\(expression), \(PostgresSQL.literal(from + deleted)), \(PostgresSQL.literal(to)))"
        for (scalar, image) in expanded {
            text = "replace(\(text), \(PostgresSQL.literal(scalar)), \(PostgresSQL.literal(image)))"
        }
        return text
    }

    /// Every scalar that `image` changes, of the scalars NFKC leaves as they are (the server
    /// normalises first): the letters, marks and symbols of every script.
    private static func table(_ image: (Unicode.Scalar) -> String) -> Table {
        var table: Table = []
        for value in UInt32(0x41)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let properties = scalar.properties
            // Unassigned, private-use and surrogate code points fold to themselves.
            guard properties.generalCategory != .unassigned, properties.generalCategory != .privateUse else { continue }
            let alone = String(scalar)
            guard alone.precomposedStringWithCompatibilityMapping == alone else { continue }
            let result = image(scalar)
            if result != alone { table.append((scalar, result)) }
        }
        return table
    }
}
