import Foundation
import GRDB

/// SQL functions for money arithmetic, computed in decimal, not binary floating point.
///
/// Money is integer cents. `rolo_money_mul(cents, factor)` and `rolo_money_div(cents, divisor)`
/// return cents rounded half-even (banker's rounding, as accounting does) to the cent; a factor
/// given as text (a literal as written, `1.1`) is exact. A NULL operand gives NULL; a zero
/// divisor gives NULL (the binder refuses a literal zero before SQL is run); a result past
/// ±92,233,720,368,547,758.07 is an error rather than a wrapped value.
enum MoneyFunctions {
    static let multiply = DatabaseFunction("rolo_money_mul", argumentCount: 2, pure: true) { values in
        try apply(values) { cents, factor in cents * factor }
    }

    static let divide = DatabaseFunction("rolo_money_div", argumentCount: 2, pure: true) { values in
        try apply(values) { cents, divisor in divisor.isZero ? nil : cents / divisor }
    }

    /// `rolo_int(x)`: a computed value written into an integer or money field — whole, or rounded
    /// half-even; an error (never a REAL, never a value clamped to the limit) past ±2⁶³.
    static let integer = DatabaseFunction("rolo_int", argumentCount: 1, pure: true) { values in
        switch values.first?.storage {
        case .int64(let i): return i
        case .double(let d):
            guard d.isFinite, d.magnitude < 9.223_372_036_854_775_807e18 else {
                throw DatabaseError(resultCode: .roloIntegerOverflow, message: "rolo: integer overflow")
            }
            return Int64(d.rounded(.toNearestOrEven))
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    static func install(in db: Database) {
        db.add(function: multiply)
        db.add(function: divide)
        db.add(function: integer)
    }

    private static func apply(_ values: [DatabaseValue], _ operation: (Decimal, Decimal) -> Decimal?) throws -> Int64? {
        guard values.count == 2, let cents = decimal(values[0]), let other = decimal(values[1]),
            let exact = operation(cents, other)
        else { return nil }
        var result = exact
        var rounded = Decimal()
        NSDecimalRound(&rounded, &result, 0, .bankers)
        guard rounded.magnitude <= Decimal(Int64.max) else {
            throw DatabaseError(resultCode: .roloMoneyOutOfRange, message: "rolo: amount of money out of range")
        }
        return NSDecimalNumber(decimal: rounded).int64Value
    }

    private static func decimal(_ value: DatabaseValue) -> Decimal? {
        switch value.storage {
        case .int64(let i): return Decimal(i)
        case .double(let d): return d.isFinite ? Decimal(string: String(d)) : nil
        case .string(let s): return Decimal(string: s, locale: Locale(identifier: "en_US_POSIX"))
        case .null, .blob: return nil
        }
    }
}
