/// The sample company's postal addresses and websites (schema version 8), and the dirt planted in
/// them and in phones and verification dates, all drawn from `addressRng` so that every value the
/// company drew before version 8 stays the same for a seed.
extension Generator {
    /// A contact's street, region and postcode; none of them for one contact in eight.
    mutating func address(in place: (city: String, country: String)) -> (street: String?, region: String?, postcode: String?) {
        let roll = addressRng.below(100)
        if roll < 12 {
            dirt.missingAddresses += 1
            return (nil, nil, nil)
        }
        var street = "\(1 + addressRng.below(400)) \(addressRng.pick(SampleWords.streetNames)) \(addressRng.pick(SampleWords.streetKinds))"
        if roll < 15 {
            dirt.untidyStreets += 1
            street = roll == 12 ? street.uppercased() : street.split(separator: " ").joined(separator: "  ") + " "
        }
        return (street, SampleWords.regions[place.city], SampleWords.postcode(for: place.country, &addressRng))
    }

    /// For a contact without a phone: one time in five, something typed where a phone goes.
    mutating func unusablePhone() -> String? {
        guard addressRng.below(5) == 0 else { return nil }
        dirt.missingPhones -= 1
        dirt.unusablePhones += 1
        return addressRng.pick(SampleWords.unusablePhones)
    }

    /// For an unverified contact: one time in two hundred, a verification dated after today.
    mutating func impossibleVerification() -> String? {
        guard addressRng.below(200) == 0 else { return nil }
        dirt.impossibleDates += 1
        return now.adding(seconds: 86_400 * (1 + addressRng.below(700))).description
    }

    /// An account's website: `https://www.DOMAIN`, missing for one account in twelve, written
    /// another way for one in twenty.
    mutating func website(_ domain: String) -> String? {
        let roll = addressRng.below(60)
        if roll < 5 {
            dirt.missingWebsites += 1
            return nil
        }
        if roll < 8 {
            dirt.untidyWebsites += 1
            switch roll {
            case 5: return "www." + domain
            case 6: return "HTTP://WWW." + domain.uppercased()
            default: return "http://" + domain
            }
        }
        return "https://www." + domain
    }
}

extension SampleWords {
    static let streetNames = [
        "Main", "Oak", "Maple", "Church", "High", "Station", "Park", "Mill", "King", "Queen", "River", "Harbour", "Market",
        "Elm", "Cedar", "Lake", "Hill", "Bridge", "Garden", "Victoria",
    ]
    static let streetKinds = ["Street", "Avenue", "Road", "Lane", "Way", "Boulevard"]
    static let unusablePhones = ["n/a", "ask reception", "555-01", "tbd", "see email", "-"]

    /// Each sample city's region, as its country's post writes it.
    static let regions: [String: String] = [
        "New York": "NY", "Chicago": "IL", "Austin": "TX", "Seattle": "WA", "Boston": "MA", "Denver": "CO",
        "Toronto": "ON", "Vancouver": "BC", "London": "England", "Manchester": "England", "Dublin": "Leinster",
        "Berlin": "BE", "Munich": "BY", "Paris": "Île-de-France", "Lyon": "Auvergne-Rhône-Alpes", "Madrid": "MD",
        "Barcelona": "CT", "Milan": "MI", "Amsterdam": "NH", "Stockholm": "AB", "Copenhagen": "Hovedstaden",
        "Warsaw": "MZ", "Lisbon": "Lisboa", "Zurich": "ZH", "Vienna": "W", "Sydney": "NSW", "Singapore": "SG",
        "Tokyo": "13", "São Paulo": "SP", "Mexico City": "CDMX",
    ]

    /// A postcode in the form the country uses.
    static func postcode(for country: String, _ rng: inout SplitMix64) -> String {
        func digits(_ count: Int) -> String { String((0..<count).map { _ in Character(String(rng.below(10))) }) }
        func letter() -> String { String(Character(Unicode.Scalar(UInt8(65 + rng.below(26))))) }
        switch country {
        case "US", "DE", "FR", "ES", "IT", "MX": return digits(5)
        case "CA": return letter() + digits(1) + letter() + " " + digits(1) + letter() + digits(1)
        case "GB": return letter() + letter() + digits(1) + " " + digits(1) + letter() + letter()
        case "IE": return "D" + digits(2) + " " + letter() + digits(3)
        case "NL": return digits(4) + " " + letter() + letter()
        case "SE": return digits(3) + " " + digits(2)
        case "PL": return digits(2) + "-" + digits(3)
        case "PT": return digits(4) + "-" + digits(3)
        case "SG": return digits(6)
        case "JP": return digits(3) + "-" + digits(4)
        case "BR": return digits(5) + "-" + digits(3)
        default: return digits(4)
        }
    }
}
