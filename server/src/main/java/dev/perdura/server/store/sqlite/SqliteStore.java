package dev.perdura.server.store.sqlite;

import dev.perdura.server.store.StoreException;
import dev.perdura.server.store.jdbc.JdbcStore;
import dev.perdura.server.store.jdbc.Session;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;

/**
 * The embedded store: one SQLite file in WAL mode. One writer connection does every commit (SQLite
 * has a single writer anyway); readers use their own connections so reads never wait for a write,
 * except the history shards' own lookups, which use the writer between its commits ({@link
 * #readToWrite}).
 * {@code synchronous=NORMAL} in WAL mode keeps every committed transaction across a process crash.
 */
public final class SqliteStore extends JdbcStore {
  private static final int READERS = 4;
  private static final long WAIT_SECONDS = 30;

  private final String url;
  private final Connection keepAlive;
  private final Session writer;
  private final ReentrantLock writeLock = new ReentrantLock();
  private final BlockingQueue<Session> readers = new ArrayBlockingQueue<>(READERS);
  private final List<Session> allReaders = new ArrayList<>();
  private final String description;
  private Path deleteOnClose;

  private SqliteStore(String url, String description, boolean file) {
    // One writer connection: commits are one at a time anyway, and none is fenced.
    super(1);
    this.url = url;
    this.description = description;
    try {
      this.keepAlive = DriverManager.getConnection(url);
      if (file) {
        try (Statement s = keepAlive.createStatement()) {
          s.execute("PRAGMA journal_mode=WAL");
        }
      }
      this.writer = new Session(open());
      for (int i = 0; i < READERS; i++) {
        Session reader = new Session(open());
        allReaders.add(reader);
        readers.add(reader);
      }
    } catch (SQLException e) {
      throw new StoreException("cannot open SQLite database " + description + ": " + e.getMessage(), e);
    }
  }

  private Connection open() throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    // The driver otherwise runs "SELECT last_insert_rowid()" after every INSERT, a statement
    // prepared and stepped per row written; nothing here reads generated keys.
    config.setGetGeneratedKeys(false);
    Connection c = DriverManager.getConnection(url, config.toProperties());
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA busy_timeout=" + TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
      s.execute("PRAGMA synchronous=NORMAL");
    }
    return c;
  }

  /** Opens (creating if needed) the database file and its parent directories. */
  public static SqliteStore open(Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new StoreException("cannot create the directory of " + file + ": " + e.getMessage(), e);
    }
    return new SqliteStore("jdbc:sqlite:" + file.toAbsolutePath(), file.toAbsolutePath().toString(), true);
  }

  /**
   * A throwaway database, gone when the store is closed. It is a file in a temporary directory
   * rather than SQLite's shared-cache memory mode, whose table locks ignore the busy timeout and
   * fail concurrent readers and writers; the page cache keeps it in memory in practice.
   */
  public static SqliteStore inMemory() {
    Path dir;
    try {
      dir = Files.createTempDirectory("perdura-");
    } catch (IOException e) {
      throw new StoreException("cannot create a temporary directory: " + e.getMessage(), e);
    }
    Path file = dir.resolve("perdura.db");
    SqliteStore store = new SqliteStore("jdbc:sqlite:" + file, "in memory (" + file + ")", true);
    store.deleteOnClose = dir;
    return store;
  }

  // ---- plumbing -----------------------------------------------------------------------------

  @Override
  protected <T> T read(String what, Body<T> body) {
    Session c;
    try {
      c = readers.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for a connection to " + what, e);
    }
    if (c == null) {
      throw new StoreException("no database connection free for " + what, null);
    }
    try {
      return body.run(c);
    } catch (SQLException e) {
      throw new StoreException("cannot " + what + ": " + e.getMessage(), e);
    } finally {
      readers.add(c);
    }
  }

  private void lockToWrite(String what) {
    try {
      if (!writeLock.tryLock(WAIT_SECONDS, TimeUnit.SECONDS)) {
        throw new StoreException("timed out waiting to " + what, null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting to " + what, e);
    }
  }

  @Override
  protected <T> T write(String what, Body<T> body) {
    lockToWrite(what);
    try {
      return inTransaction(writer, body);
    } catch (SQLException e) {
      throw new StoreException("cannot " + what + ": " + e.getMessage(), e);
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * On the writing connection, between its commits: reads on the reader connections start with an
   * empty page cache after every commit of another connection, the writer's cache stays warm.
   */
  @Override
  protected <T> T readToWrite(String what, Body<T> body) {
    lockToWrite(what);
    try {
      return body.run(writer);
    } catch (SQLException e) {
      throw new StoreException("cannot " + what + ": " + e.getMessage(), e);
    } finally {
      writeLock.unlock();
    }
  }

  @Override
  protected String dialect() {
    return "sqlite";
  }

  @Override
  public void close() {
    writeLock.lock();
    try {
      for (Session c : allReaders) {
        closeQuietly(c.connection());
      }
      closeQuietly(writer.connection());
      closeQuietly(keepAlive);
    } finally {
      writeLock.unlock();
    }
    if (deleteOnClose != null) {
      try (var files = Files.walk(deleteOnClose)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        org.slf4j.LoggerFactory.getLogger(SqliteStore.class)
            .warn("could not delete the temporary database {}", deleteOnClose, e);
      }
    }
  }

  private void closeQuietly(Connection c) {
    try {
      if (!c.isClosed()) {
        c.close();
      }
    } catch (SQLException e) {
      org.slf4j.LoggerFactory.getLogger(SqliteStore.class)
          .warn("closing a connection to {} failed", description, e);
    }
  }

  @Override
  public String toString() {
    return "SQLite " + description;
  }
}
