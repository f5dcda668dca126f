//! The connections the server takes: at most `max_connections` at once (further clients
//! wait in the listen backlog until one closes) and at most `per_peer` from one client
//! address (an IPv6 client by its /64), so one client cannot take every place; each
//! connection must make its first call within `first_call` of connecting (a socket that
//! stays silent, or opens HTTP/2 and asks nothing, is closed) and is closed after `idle`
//! without a byte from the client (a live gRPC client answers the server's HTTP/2 pings,
//! so only dead and silent sockets are dropped); and an accept loop that backs off when
//! the process runs out of descriptors instead of spinning.

use std::collections::HashMap;
use std::future::Future as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// How the server limits its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    /// Connections one client address (an IPv6 /64) may hold at once.
    pub per_peer: usize,
    /// How soon after connecting a connection must make its first call.
    pub first_call: Duration,
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            per_peer: 64,
            first_call: Duration::from_secs(5),
            idle: Duration::from_secs(120),
        }
    }
}

/// The connections each client address holds, and which of them made a call.
#[derive(Debug, Default)]
pub struct Peers {
    held: Mutex<HashMap<IpAddr, usize>>,
    /// Open connections by their client's socket address: set once a call arrives.
    called: Mutex<HashMap<SocketAddr, Arc<AtomicBool>>>,
}

impl Peers {
    /// Records that the connection from `remote` made a call.
    pub fn called(&self, remote: SocketAddr) {
        let called = self.called.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(flag) = called.get(&remote) {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// A place for a connection from `remote`, unless its address holds `max` already.
    fn admit(self: &Arc<Self>, remote: SocketAddr, max: usize) -> Option<PeerPlace> {
        let peer = peer_of(remote.ip());
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let n = held.entry(peer).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        drop(held);
        let called = Arc::new(AtomicBool::new(false));
        self.called
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(remote, called.clone());
        Some(PeerPlace {
            peers: self.clone(),
            peer,
            remote,
            called,
        })
    }
}

/// The address a client is counted under: an IPv4 address (an IPv4-mapped IPv6 one as
/// the IPv4 inside), or an IPv6 address's /64 (one site's network).
fn peer_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut s = v6.segments();
                s[4..].fill(0);
                IpAddr::V6(s.into())
            }
        },
    }
}

/// A connection's place among its client's, given back when it closes.
#[derive(Debug)]
struct PeerPlace {
    peers: Arc<Peers>,
    peer: IpAddr,
    remote: SocketAddr,
    called: Arc<AtomicBool>,
}

impl Drop for PeerPlace {
    fn drop(&mut self) {
        let mut held = self.peers.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = held.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.peer);
            }
        }
        drop(held);
        let mut called = self.peers.called.lock().unwrap_or_else(|p| p.into_inner());
        if called
            .get(&self.remote)
            .is_some_and(|c| Arc::ptr_eq(c, &self.called))
        {
            called.remove(&self.remote);
        }
    }
}

/// One accepted connection, holding its places under the caps until it closes.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    _place: OwnedSemaphorePermit,
    peer: PeerPlace,
    idle: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
    /// Until the first call: when the connection is closed if none has come.
    first_call: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Connected for Connection {
    type ConnectInfo = TcpConnectInfo;
    fn connect_info(&self) -> TcpConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    let at = tokio::time::Instant::now() + self.idle;
                    self.deadline.as_mut().reset(at);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if self.peer.called.load(Ordering::Relaxed) {
                    self.first_call = None;
                }
                if let Some(first) = self.first_call.as_mut() {
                    if first.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the client made no call in its first seconds",
                        )));
                    }
                }
                match self.deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client sent nothing for the idle timeout",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The stream of connections `listener` accepts under `limits`; `peers` learns of their
/// calls (see [`Peers::called`]).
pub fn incoming(
    listener: TcpListener,
    limits: Limits,
    peers: Arc<Peers>,
) -> impl Stream<Item = io::Result<Connection>> + Send + 'static {
    let places = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    futures::stream::unfold(
        (listener, places, Duration::ZERO, 0u64),
        move |(listener, places, mut backoff, mut turned_away)| {
            let peers = peers.clone();
            async move {
                loop {
                    let place = places.clone().acquire_owned().await.ok()?;
                    match listener.accept().await {
                        Ok((stream, remote)) => {
                            let Some(peer) = peers.admit(remote, limits.per_peer.max(1)) else {
                                // Closed at once: its place goes to the next client.
                                turned_away += 1;
                                if turned_away.is_power_of_two() {
                                    tracing::warn!(peer = %peer_of(remote.ip()), turned_away, per_peer = limits.per_peer, "a client address holds every connection it may; closing its new ones");
                                }
                                continue;
                            };
                            let _ = stream.set_nodelay(true);
                            let connection = Connection {
                                stream,
                                _place: place,
                                peer,
                                idle: limits.idle,
                                deadline: Box::pin(tokio::time::sleep(limits.idle)),
                                first_call: Some(Box::pin(tokio::time::sleep(limits.first_call))),
                            };
                            return Some((
                                Ok(connection),
                                (listener, places, Duration::ZERO, turned_away),
                            ));
                        }
                        Err(e) => {
                            // Out of descriptors (or another passing fault): wait, longer
                            // each time up to a second, rather than spin on the error.
                            drop(place);
                            backoff = (backoff * 2)
                                .clamp(Duration::from_millis(10), Duration::from_secs(1));
                            if backoff == Duration::from_secs(1)
                                || backoff == Duration::from_millis(10)
                            {
                                tracing::warn!(error = %e, ?backoff, "cannot accept a connection; backing off");
                            }
                            tokio::time::sleep(backoff).await;
                        }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_counted_by_address_and_ipv6_by_its_64() {
        let v6 = |s: &str| -> IpAddr { s.parse().expect("ip") };
        assert_eq!(peer_of(v6("10.1.2.3")), v6("10.1.2.3"));
        assert_eq!(peer_of(v6("::ffff:10.1.2.3")), v6("10.1.2.3"));
        assert_eq!(peer_of(v6("2001:db8:1:2:aaaa::1")), v6("2001:db8:1:2::"));
        assert_eq!(
            peer_of(v6("2001:db8:1:2:ffff:1:2:3")),
            peer_of(v6("2001:db8:1:2::9"))
        );
    }

    #[test]
    fn one_address_holds_at_most_its_share_and_gets_places_back() {
        let peers = Arc::new(Peers::default());
        let at = |port: u16| SocketAddr::from(([10, 0, 0, 1], port));
        let held: Vec<PeerPlace> = (0..3)
            .map(|p| peers.admit(at(p), 3).expect("place"))
            .collect();
        assert!(peers.admit(at(9), 3).is_none(), "a fourth is turned away");
        assert!(
            peers
                .admit(SocketAddr::from(([10, 0, 0, 2], 1)), 3)
                .is_some(),
            "another client still gets in"
        );
        peers.called(at(1));
        assert!(held[1].called.load(Ordering::Relaxed));
        assert!(!held[0].called.load(Ordering::Relaxed));
        drop(held);
        assert!(
            peers.admit(at(9), 3).is_some(),
            "closed connections give their places back"
        );
    }
}
