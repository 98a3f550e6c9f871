//! The room registry. Rooms are announced as `room.created` events on the `lobby` channel,
//! so every server process sharing a Redis learns the same rooms: a process that does not
//! know a room reads the lobby's history before answering "no such room".

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use http::StatusCode;
use realtime_axum::RequestError;
use realtime_core::{Error, History, Realtime};

use crate::events::{ChatEvent, RoomCreated};

/// The channel where rooms are announced.
pub const LOBBY: &str = "lobby";

/// The most rooms people may create (the built-in ones aside). Rooms are learnt from the
/// lobby's newest 1,000 events, so this keeps every room in reach.
pub const MAX_ROOMS: usize = 500;

/// The most names a private room invites, its creator included.
pub const MAX_MEMBERS: usize = 50;

/// The rooms every server has from the start.
const BUILT_IN: &[&str] = &["general", "random"];

/// The channel of a room.
pub fn channel_of(room: &str) -> String {
    format!("room-{room}")
}

/// The channel of a room's typing notices, apart so that they never take the place of
/// messages in the room's history.
pub fn typing_channel_of(room: &str) -> String {
    format!("typing-{room}")
}

/// A room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    /// Its name.
    pub name: String,
    /// Whether only `members` may read and write it.
    pub private: bool,
    /// The invited names of a private room.
    pub members: Vec<String>,
}

impl Room {
    /// Whether `name` may read (and write) the room.
    pub fn may_read(&self, name: &str) -> bool {
        !self.private || self.members.iter().any(|member| member == name)
    }
}

/// Every room this process knows.
#[derive(Clone, Debug)]
pub struct Rooms {
    realtime: Realtime<ChatEvent>,
    known: Arc<Mutex<BTreeMap<String, Room>>>,
}

impl Rooms {
    /// The built-in rooms; others are learnt from the lobby.
    pub fn new(realtime: Realtime<ChatEvent>) -> Self {
        let known = BUILT_IN
            .iter()
            .map(|name| {
                let room = Room {
                    name: (*name).to_owned(),
                    private: false,
                    members: Vec::new(),
                };
                ((*name).to_owned(), room)
            })
            .collect();
        Self {
            realtime,
            known: Arc::new(Mutex::new(known)),
        }
    }

    fn lookup(&self, room: &str) -> Option<Room> {
        self.lock().get(room).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Room>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn learn(&self, created: &RoomCreated) {
        self.lock()
            .entry(created.room.clone())
            .or_insert_with(|| Room {
                name: created.room.clone(),
                private: created.private,
                members: created.members.clone(),
            });
    }

    /// Reads the lobby's history (rooms created by any process).
    async fn refresh(&self) -> Result<(), Error> {
        let announced = self
            .realtime
            .channel(LOBBY)
            .history(History::last(1000))
            .await?;
        for envelope in announced {
            if let ChatEvent::Created(created) = &envelope.event {
                self.learn(created);
            }
        }
        Ok(())
    }

    /// Every room, built-in first, then by name.
    ///
    /// # Errors
    /// When the lobby's history cannot be read.
    pub async fn all(&self) -> Result<Vec<Room>, Error> {
        self.refresh().await?;
        let known = self.lock();
        let mut rooms: Vec<Room> = known.values().cloned().collect();
        rooms.sort_by_key(|room| (!BUILT_IN.contains(&room.name.as_str()), room.name.clone()));
        Ok(rooms)
    }

    /// The room called `room`, reading the lobby when this process does not know it.
    ///
    /// # Errors
    /// 404 when there is no such room, 503 when the lobby cannot be read.
    pub async fn find(&self, room: &str) -> Result<Room, RequestError> {
        if let Some(found) = self.lookup(room) {
            return Ok(found);
        }
        self.refresh()
            .await
            .map_err(|error| RequestError::from(&error))?;
        self.lookup(room).ok_or_else(|| {
            RequestError::new(StatusCode::NOT_FOUND, format!("there is no room `{room}`"))
        })
    }

    /// Allows `name` to read and write `room`, or says why not (404, 403).
    ///
    /// # Errors
    /// 404 for an unknown room; 403 for a private room `name` is not invited to.
    pub async fn readable(&self, room: &str, name: &str) -> Result<Room, RequestError> {
        let found = self.find(room).await?;
        if found.may_read(name) {
            Ok(found)
        } else {
            Err(RequestError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "`{room}` is a private room: only invited names may read it, and `{name}` is not invited"
                ),
            )
            .with("room", room))
        }
    }

    /// Creates a room and announces it on the lobby.
    ///
    /// # Errors
    /// 409 when it exists or [`MAX_ROOMS`] were created, 422 when the name breaks the schema.
    pub async fn create(&self, created: RoomCreated) -> Result<(), RequestError> {
        if self.find(&created.room).await.is_ok() {
            return Err(RequestError::new(
                StatusCode::CONFLICT,
                format!("there is already a room `{}`", created.room),
            ));
        }
        if self.lock().len() >= MAX_ROOMS + BUILT_IN.len() {
            return Err(RequestError::new(
                StatusCode::CONFLICT,
                format!("the chat has {MAX_ROOMS} rooms, the most it keeps; join one of them"),
            ));
        }
        match self
            .realtime
            .channel(LOBBY)
            .emit(&ChatEvent::Created(created.clone()))
            .await
        {
            Ok(_) => {
                self.learn(&created);
                Ok(())
            }
            Err(Error::Invalid(violation)) => Err(RequestError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "a room name is 1 to 32 letters, digits, `-` or `_`",
            )
            .with("path", violation.path)
            .with("rule", violation.rule)),
            Err(error) => Err(RequestError::from(&error)),
        }
    }
}
