//! English and Spanish for every string the window shows.
//!
//! Call sites write the English text, `lang.t("Transcript")`, so the code
//! reads naturally; the Spanish comes from [`SPANISH`]. A test reads the
//! GUI's source files and fails when a string passed to `t(` has no
//! Spanish entry, so no untranslated text can slip in. Protocol text
//! (commands, replies, headers) is never translated: students must see
//! the protocol's own words.

use crate::trace::{FindingCode, LineKind};

/// The language of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Es,
}

impl Lang {
    /// From the environment (`LC_ALL`, `LC_MESSAGES`, `LANG`, as POSIX
    /// orders them): Spanish when the locale starts with `es`.
    pub fn from_env() -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty()
            {
                return Lang::from_locale(&v);
            }
        }
        Lang::En
    }

    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("es") {
            Lang::Es
        } else {
            Lang::En
        }
    }

    /// `english` in this language.
    pub fn t(self, english: &'static str) -> &'static str {
        match self {
            Lang::En => english,
            Lang::Es => spanish(english).unwrap_or(english),
        }
    }

    /// Like [`t`](Self::t) with `{}` replaced by `arg`.
    pub fn f(self, english: &'static str, arg: impl std::fmt::Display) -> String {
        self.t(english).replacen("{}", &arg.to_string(), 1)
    }

    /// Like [`f`](Self::f) with two arguments.
    pub fn f2(
        self,
        english: &'static str,
        a: impl std::fmt::Display,
        b: impl std::fmt::Display,
    ) -> String {
        self.t(english)
            .replacen("{}", &a.to_string(), 1)
            .replacen("{}", &b.to_string(), 1)
    }
}

/// The tables: this file's and the panels' own (each panel keeps the
/// strings only it shows next to its code).
const TABLES: &[&[(&str, &str)]] = &[
    SPANISH,
    super::inspector::SPANISH,
    super::export::SPANISH,
    super::lesson::SPANISH,
    super::demo_menu::SPANISH,
    super::pdu::SPANISH,
    super::compare::SPANISH,
    super::app::decrypt::SPANISH,
    super::app::comparing::SPANISH,
    super::crowd::SPANISH,
];

fn spanish(english: &str) -> Option<&'static str> {
    TABLES
        .iter()
        .find_map(|t| t.iter().find(|(en, _)| *en == english))
        .map(|(_, es)| *es)
}

/// (English, Spanish), sorted by the English text (a test checks), for
/// the strings several panels share.
pub const SPANISH: &[(&str, &str)] = &[
    ("(no subject)", "(sin asunto)"),
    ("(none)", "(ninguno)"),
    (
        "A TLS connection: only sizes and handshake facts are visible",
        "Una conexión TLS: solo se ven tamaños y datos del saludo",
    ),
    ("ACK", "ACK"),
    ("All connections", "Todas las conexiones"),
    ("All protocols", "Todos los protocolos"),
    ("Analysing {}…", "Analizando {}…"),
    ("Attachments", "Adjuntos"),
    ("Before STARTTLS, in clear:", "Antes de STARTTLS, en claro:"),
    ("Body", "Cuerpo"),
    ("Bytes", "Bytes"),
    ("Cannot open the capture", "No se puede abrir la captura"),
    ("Capture time", "Tiempo de captura"),
    ("Clock", "Reloj"),
    ("Close", "Cierre"),
    ("Commands", "Comandos"),
    ("Connection", "Conexión"),
    ("Connections", "Conexiones"),
    ("Credentials in clear", "Credenciales en claro"),
    ("DNS server", "servidor DNS"),
    ("Dark", "Oscuro"),
    ("Data", "Datos"),
    ("Decoded", "Decodificado"),
    (
        "Decrypted with the key log",
        "Descifrado con el registro de claves",
    ),
    ("Direction", "Sentido"),
    (
        "Drop a capture file here, or",
        "Suelte aquí un archivo de captura, o",
    ),
    ("Eavesdropper", "Espía"),
    ("Encrypted", "Cifrado"),
    (
        "Encrypted, as the wire shows it:",
        "Cifrado, tal como se ve en la red:",
    ),
    ("Event pace", "Ritmo de eventos"),
    (
        "Export the sequence diagram",
        "Exportar el diagrama de secuencia",
    ),
    ("Findings", "Hallazgos"),
    ("Flows", "Flujos"),
    ("From", "De"),
    ("Handshake", "Acuerdo en tres fases"),
    ("Headers", "Cabeceras"),
    ("Host", "Equipo"),
    ("Hosts", "Equipos"),
    ("MIME structure", "Estructura MIME"),
    (
        "MX: the server that takes in the mail for this domain (the lowest number is tried first)",
        "MX: el servidor que recibe el correo de este dominio (se prueba primero el número más bajo)",
    ),
    ("Mechanism", "Mecanismo"),
    ("Message", "Mensaje"),
    ("Messages", "Mensajes"),
    ("Messages in clear", "Mensajes en claro"),
    ("Next event", "Siguiente evento"),
    (
        "No TLS: everything below crossed the network in clear",
        "Sin TLS: todo lo de abajo cruzó la red en claro",
    ),
    (
        "No message in this connection",
        "Ningún mensaje en esta conexión",
    ),
    ("No packet selected", "Ningún paquete seleccionado"),
    (
        "None readable: the mail went inside TLS",
        "Ninguno legible: el correo viajó dentro de TLS",
    ),
    (
        "Not kept: over the memory budget",
        "No guardado: supera el límite de memoria",
    ),
    ("Open", "Abrir"),
    ("Open a capture", "Abrir una captura"),
    ("Open…", "Abrir…"),
    ("Packet", "Paquete"),
    ("Packets", "Paquetes"),
    ("Packets of the line", "Paquetes de la línea"),
    ("Password", "Contraseña"),
    ("Pause", "Pausa"),
    ("Play", "Reproducir"),
    ("Presenter mode", "Modo presentación"),
    ("Previous event", "Evento anterior"),
    ("Protocol", "Protocolo"),
    ("Raw line on the wire", "Línea en bruto en la red"),
    ("Raw source", "Código fuente"),
    ("Reset", "Reinicio (RST)"),
    (
        "Run the demo: Alice to Bob",
        "Ejecutar la demo: de Alice a Bob",
    ),
    ("Save", "Guardar"),
    ("Saved to {}", "Guardado en {}"),
    ("Search", "Buscar"),
    ("Selected connection", "Conexión seleccionada"),
    ("Server", "Servidor"),
    ("Severity", "Gravedad"),
    ("Speed", "Velocidad"),
    ("Subject", "Asunto"),
    ("TLS records", "Registros TLS"),
    ("TLS version", "Versión de TLS"),
    (
        "This window read inside with the key log; an eavesdropper without the keys cannot",
        "Esta ventana leyó el interior con el registro de claves; un espía sin las claves no puede",
    ),
    ("Time", "Tiempo"),
    ("Timeline", "Línea de tiempo"),
    ("Timeline:", "Línea de tiempo:"),
    ("To", "Para"),
    ("Topology", "Topología"),
    ("Transcript", "Transcripción"),
    ("Username", "Usuario"),
    (
        "What anyone on the path can read",
        "Lo que cualquiera en el camino puede leer",
    ),
    ("With findings only", "Solo con hallazgos"),
    ("cipher", "cifrado"),
    ("commands", "comandos"),
    ("findings", "hallazgos"),
    ("host", "equipo"),
    ("live: following the demo", "en vivo: siguiendo la demo"),
    ("mail server", "servidor de correo"),
    ("messages", "mensajes"),
    ("strips STARTTLS", "elimina STARTTLS"),
    ("user agent", "agente de usuario"),
    (
        "was STARTTLS: blanked on the path",
        "era STARTTLS: borrado en el camino",
    ),
    ("{} (recording)", "{} (grabando)"),
    ("{} bytes", "{} bytes"),
    ("{} connections, {} packets", "{} conexiones, {} paquetes"),
    ("{} messages", "{} mensajes"),
    ("{} more", "{} más"),
    ("{} more in the Flows tab", "{} más en la pestaña Flujos"),
    ("{} of {} flows", "{} de {} flujos"),
    ("{} packets on the way", "{} paquetes en camino"),
];

/// What each analyzer finding means, in Spanish. The analyzer's own
/// sentence (with the names, numbers and RFC sections of the case) is
/// English; in Spanish the window leads with this meaning and keeps that
/// sentence as the detail. The `match` is exhaustive: a new finding code
/// does not compile until it has its Spanish.
fn finding_es(code: FindingCode) -> &'static str {
    match code {
        FindingCode::AuthGuessing => {
            "Muchos inicios de sesión rechazados de un cliente contra un servidor en poco tiempo: alguien adivina contraseñas"
        }
        FindingCode::BareLf => "Líneas que terminan en LF solo, sin CRLF: el protocolo exige CRLF",
        FindingCode::CaptureCorrupt => "Un registro del fichero de captura está dañado y se saltó",
        FindingCode::CaptureTruncated => {
            "El fichero de captura está cortado: lo que seguía se perdió"
        }
        FindingCode::CaptureUnknownBlock => {
            "Se saltó un bloque del fichero de captura de tipo desconocido"
        }
        FindingCode::CaptureUnknownInterface => {
            "Un paquete nombra una interfaz que la captura nunca describió"
        }
        FindingCode::DataRejected => "El servidor rechazó el mensaje en DATA: no se entregó",
        FindingCode::DisplayNameSpoof => {
            "El nombre visible del remitente muestra una dirección que no es la suya: quien lee ve el nombre, no la dirección"
        }
        FindingCode::FromMismatch => {
            "El remitente del sobre (MAIL FROM) no coincide con el From: del mensaje: posible suplantación"
        }
        FindingCode::GapInStream => {
            "Faltan bytes de la conexión en la captura: lo que llevaban se perdió"
        }
        FindingCode::MessageTruncated => "Mensaje demasiado grande: solo se guarda el principio",
        FindingCode::MtaStsViolation => {
            "Una sesión SMTP sin TLS con un servidor de un dominio cuya política MTA-STS exige TLS"
        }
        FindingCode::OpenRelay => {
            "El servidor pasó a otro servidor correo para otro dominio de un cliente sin autenticar: relé abierto"
        }
        FindingCode::OverlongLine => "Una línea supera la longitud máxima que permite el protocolo",
        FindingCode::PlaintextAuth => {
            "Credenciales enviadas sin TLS: cualquiera en el camino puede leerlas (base64 no es cifrado)"
        }
        FindingCode::Pop3DeletionsNotCommitted => {
            "Mensajes marcados con DELE pero la sesión terminó sin QUIT: el servidor los conserva"
        }
        FindingCode::ProtocolAnomaly => {
            "Algo que no sigue el protocolo (un comando o una respuesta fuera de lugar)"
        }
        FindingCode::ReplyToMismatch => {
            "Las respuestas van a un dominio distinto del del remitente (Reply-To:): las recibe otra persona"
        }
        FindingCode::SmtpSmuggling => {
            "El texto del mensaje tiene un \".\" solo junto a un LF o CR sueltos: un servidor y el cliente que le reenvía el correo pueden no estar de acuerdo en dónde acaba el mensaje, y el resto puede volverse un mensaje falsificado (SMTP smuggling)"
        }
        FindingCode::StarttlsNotUsed => {
            "El servidor ofrecía STARTTLS pero el cliente no lo usó: toda la sesión fue en claro"
        }
        FindingCode::StarttlsRefused => "El servidor rechazó STARTTLS: la sesión siguió en claro",
        FindingCode::StarttlsStripped => {
            "Alguien en el camino borró la oferta de STARTTLS (ataque de degradación o cortafuegos)"
        }
        FindingCode::TlsCipherUnsupported => {
            "La sesión TLS usa un cifrado que mailscope no sabe descifrar"
        }
        FindingCode::TlsDecryptFailed => "No se pudo descifrar la sesión TLS con las claves dadas",
        FindingCode::TlsNoKeys => "El registro de claves no tiene los secretos de esta sesión TLS",
        FindingCode::UnterminatedResponse => {
            "Una respuesta de varias líneas nunca terminó con su línea \".\": el análisis siguió en la respuesta siguiente"
        }
    }
}

impl Lang {
    /// The severity's name (`high`, `medium`, `info` in the JSON).
    pub fn severity(self, s: crate::trace::Severity) -> &'static str {
        match (self, s.as_str()) {
            (Lang::Es, "high") => "alta",
            (Lang::Es, "medium") => "media",
            (_, name) => name,
        }
    }

    /// A transcript line in this language: the analyzer's own notes
    /// (`[message: 218 bytes, 8 lines, Subject: …]` for a message's text,
    /// `[TLS: 15 bytes encrypted]`) are translated; what was said on the
    /// wire (commands, replies) never is.
    pub fn note<'a>(self, kind: LineKind, text: &'a str) -> std::borrow::Cow<'a, str> {
        use std::borrow::Cow;
        if self == Lang::En {
            return Cow::Borrowed(text);
        }
        if kind == LineKind::Tls
            && let Some(n) = text
                .strip_prefix("[TLS: ")
                .and_then(|t| t.strip_suffix(" bytes encrypted]"))
        {
            return Cow::Owned(format!("[TLS: {n} bytes cifrados]"));
        }
        if kind == LineKind::Data
            && let Some(rest) = text.strip_prefix("[message: ")
            && let Some((size, rest)) = rest.split_once(" bytes, ")
            && let Some((lines, rest)) = rest.split_once(" lines")
        {
            let rest = rest.strip_suffix(']').unwrap_or(rest);
            let (incomplete, subject) = match rest.strip_prefix(", incomplete") {
                Some(r) => (", incompleto", r),
                None => ("", rest),
            };
            let subject = subject
                .strip_prefix(", Subject: ")
                .map(|s| format!(", Asunto: {s}"))
                .unwrap_or_default();
            return Cow::Owned(format!(
                "[mensaje: {size} bytes, {lines} líneas{incomplete}{subject}]"
            ));
        }
        Cow::Borrowed(text)
    }

    /// A number as this language writes it: a decimal comma in Spanish.
    pub fn number(self, text: String) -> String {
        match self {
            Lang::En => text,
            Lang::Es => text.replace('.', ","),
        }
    }

    /// What a finding with this code means, in this language.
    pub fn finding_meaning(self, code: FindingCode) -> &'static str {
        match self {
            Lang::En => code.meaning(),
            Lang::Es => finding_es(code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        let mut all = std::collections::HashSet::new();
        for table in TABLES {
            for w in table.windows(2) {
                assert!(w[0].0 < w[1].0, "{:?} must come after {:?}", w[1].0, w[0].0);
            }
            for (en, es) in *table {
                assert!(all.insert(*en), "{en:?} is translated twice");
                assert!(!es.is_empty(), "{en:?} has an empty translation");
            }
        }
    }

    #[test]
    fn the_analyzers_notes_are_translated_and_the_wire_is_not() {
        let es = Lang::Es;
        assert_eq!(
            es.note(
                LineKind::Data,
                "[message: 962 bytes, 27 lines, Subject: Información del picnic]"
            ),
            "[mensaje: 962 bytes, 27 líneas, Asunto: Información del picnic]"
        );
        assert_eq!(
            es.note(LineKind::Data, "[message: 10 bytes, 1 lines, incomplete]"),
            "[mensaje: 10 bytes, 1 líneas, incompleto]"
        );
        assert_eq!(
            es.note(LineKind::Tls, "[TLS: 15 bytes encrypted]"),
            "[TLS: 15 bytes cifrados]"
        );
        // A command that happens to look like a note is the client's word.
        assert_eq!(
            es.note(LineKind::Command, "[TLS: 15 bytes encrypted]"),
            "[TLS: 15 bytes encrypted]"
        );
        assert_eq!(es.number("5.016000 s".into()), "5,016000 s");
        assert_eq!(Lang::En.number("1.00x".into()), "1.00x");
    }

    #[test]
    fn locale_picks_the_language() {
        assert_eq!(Lang::from_locale("es_ES.UTF-8"), Lang::Es);
        assert_eq!(Lang::from_locale("es_MX"), Lang::Es);
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale("C"), Lang::En);
        assert_eq!(Lang::Es.t("Transcript"), "Transcripción");
        assert_eq!(Lang::En.t("Transcript"), "Transcript");
        assert_eq!(Lang::Es.f("Saved to {}", "/tmp/a"), "Guardado en /tmp/a");
    }

    /// Every literal the GUI passes to `t(`, `f(` or `f2(` has Spanish.
    #[test]
    fn every_visible_string_is_translated() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/gui");
        let mut missing = Vec::new();
        let mut seen = 0;
        // The panels and the app's own files under `app/` and `model/`.
        let files: Vec<std::path::PathBuf> = ["", "/app", "/model"]
            .iter()
            .flat_map(|sub| std::fs::read_dir(format!("{dir}{sub}")).unwrap())
            .map(|e| e.unwrap().path())
            .collect();
        for path in files {
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("i18n.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // `.t(`, `.f(`, `.f2(` then, after any white space (rustfmt
            // breaks long calls), a string literal.
            for call in [".t(", ".f(", ".f2("] {
                for (at, _) in text.match_indices(call) {
                    let rest = text[at + call.len()..].trim_start();
                    let Some(rest) = rest.strip_prefix('"') else {
                        continue;
                    };
                    let Some(end) = rest.find('"') else { continue };
                    let s = &rest[..end];
                    seen += 1;
                    if spanish(s).is_none() {
                        missing.push(format!("{}: {s:?}", path.display()));
                    }
                }
            }
        }
        assert!(seen > 20, "the scan found only {seen} strings");
        assert!(
            missing.is_empty(),
            "no Spanish for:\n{}",
            missing.join("\n")
        );
    }
}
