//! A value that outlives the page: saved whole after every change, read back by the next run,
//! even after a reload. In the browser it is a file in the Origin Private File System, written
//! through a synchronous access handle (on disk when `save` returns, so a reload at any moment
//! leaves the last saved value); natively, where tests run, a map that lives as long as the
//! process. A broker keeps its messages the same way, on disk or in Redis.

use serde::{de::DeserializeOwned, Serialize};

pub struct Durable {
    name: String,
    #[cfg(target_arch = "wasm32")]
    file: crate::host::OpfsFile,
}

impl Durable {
    /// Opens the store `name` and reads what it holds (None: empty, or unreadable as a `T`).
    /// Fails if it cannot be opened, e.g. while another tab holds it.
    pub async fn open<T: DeserializeOwned>(name: &str) -> Result<(Durable, Option<T>), String> {
        #[cfg(target_arch = "wasm32")]
        let (store, bytes) = {
            let file = crate::host::OpfsFile::open(&format!("{name}.json")).await?;
            let bytes = file.read_all().inspect_err(|_| file.close())?;
            (Durable { name: name.to_string(), file }, bytes)
        };
        #[cfg(not(target_arch = "wasm32"))]
        let (store, bytes) = (Durable { name: name.to_string() }, native::get(name));
        let value = serde_json::from_slice(&bytes).ok();
        Ok((store, value))
    }

    /// Replaces what the store holds with `value`.
    pub fn save<T: Serialize>(&mut self, value: &T) -> Result<(), String> {
        let bytes = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        #[cfg(target_arch = "wasm32")]
        return self.file.replace(&bytes);
        #[cfg(not(target_arch = "wasm32"))]
        {
            native::put(&self.name, bytes);
            Ok(())
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(target_arch = "wasm32")]
impl Drop for Durable {
    /// Lets the next run (or another tab) open it.
    fn drop(&mut self) {
        self.file.close();
    }
}

/// Natively one map per thread: each test runs its topics on its own thread, so parallel tests
/// never see each other's saved values.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        static STORES: RefCell<HashMap<String, Vec<u8>>> = RefCell::new(HashMap::new());
    }

    pub fn get(name: &str) -> Vec<u8> {
        STORES.with(|s| s.borrow().get(name).cloned().unwrap_or_default())
    }

    pub fn put(name: &str, bytes: Vec<u8>) {
        STORES.with(|s| s.borrow_mut().insert(name.to_string(), bytes));
    }
}
