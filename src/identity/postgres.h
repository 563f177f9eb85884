// A small libpq layer: RAII owners for PGconn and PGresult, parameterized statements only, and a
// bounded, thread-safe connection pool.
//
// Ownership: PgConnection owns its PGconn, PgResult its PGresult; both close/clear on
// destruction and are movable, not copyable. PgPool owns every idle connection; a Lease owns one
// borrowed connection and gives it back (or drops it, if it is broken or left in a transaction)
// when destroyed. Every Lease must be destroyed before its pool.
// Thread-safety: one PgConnection is used by one thread at a time (libpq's rule). PgPool is safe
// from any number of threads; Acquire blocks while `max_connections` are lent out.
// Failure modes (Status codes): kIo for a connection that cannot be made or is lost, a statement
// that fails, or a pool that stays exhausted past its wait; the SQLSTATE of a failed statement
// is kept (PgError) so callers can tell a unique violation from other errors.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cruddur::identity::pg {

// The result of one statement. Rows and columns are read as text (libpq's text format).
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result) {}

  int rows() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string Text(int row, int column) const;
  // Rows changed by INSERT/UPDATE/DELETE (PQcmdTuples); 0 for other statements.
  int AffectedRows() const;

 private:
  struct Deleter {
    void operator()(PGresult* result) const { PQclear(result); }
  };
  std::unique_ptr<PGresult, Deleter> result_;
};

// Why a statement failed: the SQLSTATE (e.g. "23505" unique_violation) and, for constraint
// errors, the constraint's name. Both empty when the failure was not the server's verdict
// (connection lost, out of memory).
struct PgError {
  std::string sqlstate;
  std::string constraint;
  std::string message;
};

class PgConnection {
 public:
  // Connects with a libpq connection string or URI (postgresql://...). Server notices are
  // discarded (DROP ... IF EXISTS would print them to stderr) and the session time zone is UTC.
  static Result<PgConnection> Connect(const std::string& conninfo);

  PgConnection(PgConnection&&) = default;
  PgConnection& operator=(PgConnection&&) = default;

  // Runs one statement with $1..$n bound to `params` as text (nullopt = SQL NULL). Values are
  // never spliced into the SQL. On failure returns kIo and, when `error` is given, fills it.
  Result<PgResult> Exec(const char* sql, const std::vector<std::optional<std::string>>& params,
                        PgError* error = nullptr);
  Result<PgResult> Exec(const char* sql) { return Exec(sql, {}); }

  // True when the connection is up and not inside a transaction: fit to be reused.
  bool Reusable() const;

 private:
  struct Deleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
  };
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  std::unique_ptr<PGconn, Deleter> conn_;
};

struct PgPoolOptions {
  std::string conninfo;
  std::size_t max_connections = 8;
  std::chrono::milliseconds acquire_timeout{10000};
};

class PgPool {
 public:
  // A borrowed connection; returns it to the pool when destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    PgConnection& operator*() { return *conn_; }
    PgConnection* operator->() { return &*conn_; }

   private:
    friend class PgPool;
    Lease(PgPool* pool, PgConnection conn) : pool_(pool), conn_(std::move(conn)) {}
    PgPool* pool_;
    std::optional<PgConnection> conn_;
  };

  // Connects once up front so a wrong URL or a down server is reported at open time.
  static Result<std::unique_ptr<PgPool>> Create(PgPoolOptions options);

  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // An idle connection, a new one if fewer than max_connections exist, or, when all are lent
  // out, the first one returned within acquire_timeout (kIo after that).
  Result<Lease> Acquire();

  // Connections open right now (idle and lent out), for tests.
  std::size_t open_connections();

 private:
  explicit PgPool(PgPoolOptions options) : options_(std::move(options)) {}
  void Return(PgConnection conn);

  const PgPoolOptions options_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<PgConnection> idle_;
  std::size_t open_ = 0;  // idle + lent out + being connected
};

}  // namespace cruddur::identity::pg
