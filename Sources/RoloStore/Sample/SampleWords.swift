import Foundation

/// Word lists for plausible names, companies, titles and places.
enum SampleWords {
    /// Lower-case ASCII letters of a name, for email addresses ("Müller" → "muller"), memoised.
    static func emailPart(_ name: String) -> String {
        if let known = emailParts[name] { return known }
        return name.lowercased().folding(options: .diacriticInsensitive, locale: nil).filter { $0.isLetter && $0.isASCII }
    }

    private static let emailParts: [String: String] = {
        var parts: [String: String] = [:]
        for name in firstNames + lastNames + companyWords + companyNouns {
            parts[name] = name.lowercased().folding(options: .diacriticInsensitive, locale: nil).filter { $0.isLetter && $0.isASCII }
        }
        return parts
    }()

    static let firstNames = [
        "Ana", "Ben", "Chloe", "Daniel", "Elena", "Felix", "Gina", "Hugo", "Iris", "Jonas", "Kira", "Liam", "Mia",
        "Nora", "Oscar", "Priya", "Quentin", "Rosa", "Samir", "Tara", "Umar", "Vera", "Wes", "Xena", "Yusuf", "Zoe",
        "Aaron", "Bianca", "Carlos", "Dmitri", "Esther", "Fatima", "George", "Hana", "Ivan", "Julia", "Kenji", "Lucia",
        "Marco", "Nadia", "Olga", "Pablo", "Rahul", "Sara", "Tomas", "Ursula", "Victor", "Wendy", "Yara", "Zane",
        "Amara", "Bruno", "Clara", "Diego", "Emil", "Freya", "Gustav", "Helen", "Isaac", "Jade", "Karl", "Leah",
        "Mateo", "Nina", "Omar", "Paula", "Ruth", "Stefan", "Theo", "Valentina", "William", "Ximena", "Yosef", "Zara",
    ]
    static let lastNames = [
        "Ruiz", "Smith", "Nguyen", "Garcia", "Müller", "Rossi", "Kowalski", "Johansson", "Dubois", "Silva", "Kim",
        "Patel", "Okafor", "Cohen", "Novak", "Larsen", "Haddad", "Tanaka", "Murphy", "Schmidt", "Costa", "Ivanova",
        "Fischer", "Moreau", "Santos", "Jensen", "Ali", "Chen", "Wright", "Lopez", "Bauer", "Romano", "Berg",
        "Walsh", "Mendes", "Sato", "Hughes", "Vargas", "Keller", "Lindqvist", "Brennan", "Petrov", "Ahmed", "Baker",
        "Carter", "Diaz", "Evans", "Foster", "Gray", "Hayes", "Irwin", "Jordan", "Khan", "Lambert", "Meyer", "Nash",
        "Olsen", "Price", "Quinn", "Reyes", "Stone", "Turner", "Vogel", "Ward", "Young", "Zimmer", "Abbott", "Blake",
    ]
    static let companyWords = [
        "Northwind", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Cyberdyne",
        "Tyrell", "Wonka", "Gringotts", "Oceanic", "Pied Piper", "Dunder", "Prestige", "Massive", "Bluth", "Sterling",
        "Blue Harbor", "Red Maple", "Silver Peak", "Golden Gate", "Iron Bridge", "Granite", "Evergreen", "Summit",
        "Pioneer", "Horizon", "Beacon", "Cascade", "Meridian", "Atlas", "Orion", "Nimbus", "Quantum", "Vertex",
        "Lumen", "Nova", "Apex", "Crescent", "Harbor", "Juniper", "Keystone", "Lakeside", "Maple", "Oakridge",
    ]
    static let companyNouns = [
        "Systems", "Logistics", "Foods", "Health", "Energy", "Media", "Labs", "Analytics", "Retail", "Capital",
        "Builders", "Farms", "Motors", "Software", "Consulting", "Textiles", "Pharma", "Robotics", "Travel", "Studios",
    ]
    static let companySuffixes = ["Inc", "LLC", "GmbH", "Ltd", "Corp", "SA", "BV", "AG"]
    static let titles = [
        "VP Sales", "VP Marketing", "VP Engineering", "Head of Marketing", "Head of Sales", "Sales Manager",
        "Account Executive", "CFO", "CEO", "CTO", "COO", "Office Manager", "Procurement Lead", "IT Director",
        "Operations Manager", "Marketing Specialist", "Product Manager", "Buyer", "Controller", "HR Director",
        "Customer Success Manager", "Data Analyst", "Founder", "Managing Director", "Purchasing Manager",
    ]
    static let jobFunctions = ["sales", "marketing", "engineering", "finance", "operations", "it", "hr", "executive", "procurement"]
    static let places: [(city: String, country: String)] = [
        ("New York", "US"), ("Chicago", "US"), ("Austin", "US"), ("Seattle", "US"), ("Boston", "US"), ("Denver", "US"),
        ("Toronto", "CA"), ("Vancouver", "CA"), ("London", "GB"), ("Manchester", "GB"), ("Dublin", "IE"), ("Berlin", "DE"),
        ("Munich", "DE"), ("Paris", "FR"), ("Lyon", "FR"), ("Madrid", "ES"), ("Barcelona", "ES"), ("Milan", "IT"),
        ("Amsterdam", "NL"), ("Stockholm", "SE"), ("Copenhagen", "DK"), ("Warsaw", "PL"), ("Lisbon", "PT"),
        ("Zurich", "CH"), ("Vienna", "AT"), ("Sydney", "AU"), ("Singapore", "SG"), ("Tokyo", "JP"), ("São Paulo", "BR"),
        ("Mexico City", "MX"),
    ]
    static let dealWords = [
        "Renewal", "Expansion", "Pilot", "Platform", "Upgrade", "Rollout", "Support plan", "Licenses", "Migration", "Training",
    ]
    static let ticketSubjects: [(String, String)] = [
        ("Invoice shows wrong amount", "billing"), ("Charged twice this month", "billing"), ("Refund request", "billing"),
        ("Export to CSV fails", "bug"), ("Dashboard does not load", "bug"), ("Error 500 on save", "bug"),
        ("How do I add a user?", "how_to"), ("How to set up SSO", "how_to"), ("Where is the audit log?", "how_to"),
        ("Please add dark mode", "feature_request"), ("Need an API for reports", "feature_request"),
        ("Locked out of account", "account_access"), ("Password reset email never arrives", "account_access"),
        ("Salesforce sync stopped", "integration"), ("Webhook retries failing", "integration"),
        ("Duplicate contacts after import", "data_quality"), ("Wrong company on contacts", "data_quality"),
    ]
    static let activitySubjects: [String: [String]] = [
        "call": ["Discovery call", "Follow-up call", "Renewal discussion", "Pricing questions", "Check-in call"],
        "email": ["Sent proposal", "Sent case study", "Replied about pricing", "Intro email", "Meeting recap"],
        "meeting": ["Demo", "Quarterly business review", "Onsite workshop", "Kickoff meeting", "Executive briefing"],
        "note": ["Champion left the company", "Budget approved for Q1", "Prefers email", "Evaluating competitors", "Asked for references"],
    ]
    /// Activities about a deal, a lead or a ticket: kinds weighted by repetition, subjects per kind.
    static let dealActivityKinds = ["call", "call", "call", "email", "email", "email", "meeting", "meeting", "meeting", "note"]
    static let dealActivitySubjects: [String: [String]] = [
        "call": ["Discovery call", "Pricing questions", "Negotiation call", "Renewal discussion", "Follow-up call"],
        "email": ["Sent proposal", "Sent contract", "Replied about pricing", "Sent case study", "Meeting recap"],
        "meeting": ["Demo", "Executive briefing", "Onsite workshop", "Contract review", "Kickoff meeting"],
        "note": ["Budget approved for Q1", "Evaluating competitors", "Champion left the company", "Legal review started"],
    ]
    static let leadActivityKinds = Array(repeating: "call", count: 9) + Array(repeating: "email", count: 9) + ["meeting", "note"]
    static let leadActivitySubjects: [String: [String]] = [
        "call": ["Cold call", "Qualification call", "Left voicemail", "Intro call"],
        "email": ["Intro email", "Sent whitepaper", "Webinar follow-up", "Event follow-up"],
        "meeting": ["Intro meeting", "First demo"],
        "note": ["No budget this year", "Wrong contact, referred on", "Interested, wants a demo"],
    ]
    static let ticketActivityKinds =
        Array(repeating: "call", count: 7) + Array(repeating: "email", count: 9) + ["meeting"] + Array(repeating: "note", count: 3)
    static let ticketActivitySubjects: [String: [String]] = [
        "call": ["Support call", "Troubleshooting call", "Called back about the ticket"],
        "email": ["Replied to the ticket", "Asked for a screenshot", "Sent a workaround", "Confirmed the fix"],
        "meeting": ["Screen-share session"],
        "note": ["Escalated to engineering", "Reproduced the issue", "Waiting on the customer"],
    ]
    static let dealTaskTitles = [
        "Send proposal", "Follow up on demo", "Prepare renewal quote", "Send contract", "Book onsite visit",
        "Chase signature", "Loop in legal", "Update close date",
    ]
    static let leadTaskTitles = ["Call lead back", "Qualify lead", "Send intro deck", "Book first demo", "Send whitepaper"]
    static let ticketTaskTitles = [
        "Follow up on ticket", "Confirm fix with customer", "Call back about invoice", "Escalate to engineering",
        "Send workaround",
    ]
    static let taskTitles = [
        "Send proposal", "Follow up on demo", "Schedule QBR", "Update contact details", "Prepare renewal quote",
        "Call back about invoice", "Send contract", "Book onsite visit", "Verify email address", "Review churn risk",
    ]
    /// The campaigns, oldest first: the channel their name says, the day they start (in days from
    /// today) and how many days they run. Two events are still to come.
    static let campaigns: [(name: String, channel: String, starts: Int, days: Int)] = [
        ("Spring Webinar Series", "webinar", -960, 43), ("Winter Product Launch", "event", -700, 1),
        ("Customer Summit", "event", -610, 2), ("Partner Roadshow", "event", -520, 19),
        ("Q3 Newsletter", "email", -480, 92), ("LinkedIn Retargeting", "social", -400, 60),
        ("Search Ads EMEA", "paid_search", -330, 90), ("Data Quality Whitepaper", "content", -250, 120),
        ("Trade Show Berlin", "event", -150, 3), ("Year-End Promo", "email", -20, 55),
        ("CFO Breakfast", "event", 18, 1), ("Onboarding Masterclass", "webinar", 40, 1),
    ]
}
