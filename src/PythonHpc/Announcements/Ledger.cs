using System.Data.Common;
using PythonHpc.Store;

namespace PythonHpc.Announcements;

/// <summary>
/// Writes delivery outcomes. A sender adds an outcome (<see cref="Add"/>) and goes on to its next
/// message; the outcome is committed, at the latest, before that message's end of data is sent
/// (<see cref="Committed"/>, called by the transport just before the final dot). So after a crash
/// only the messages on the wire, one per connection, can go again, as when each outcome was
/// committed before the next row was taken; but the commit now overlaps the next message's first
/// round trips, and whoever needs a commit first commits every outcome added by then, in one
/// transaction (group commit). Committed one by one under a lock, four senders spent a quarter of
/// their CPU time on the ledger and on waking each other (bench/run).
/// </summary>
internal sealed class Ledger : IDisposable
{
    private static readonly string[] Parameters =
        ["id", "subscriber_id", "status", "attempts", "first_attempt_at", "next_attempt_at", "last_reply", "message_id", "possible_duplicates", "now"];

    private const int CommitAttempts = 3;

    private readonly Lock _committing = new();
    private readonly Lock _adding = new();
    private readonly long _announcement;
    private readonly TimeProvider _clock;
    private readonly DbConnection _connection;
    private readonly DbCommand _record;
    private readonly DbCommand _bounce;
    private List<DeliveryOutcome> _added = new(16);
    private List<DeliveryOutcome> _spare = new(16);
    private long _last;        // the number of the last outcome added (under _adding)
    private long _committed;   // the number of the last outcome committed (read without a lock)
    private Exception? _failed;

    private Ledger(Database database, long announcement, TimeProvider clock, DbConnection connection)
    {
        (_announcement, _clock, _connection) = (announcement, clock, connection);
        _record = database.Command(connection, "record-delivery");
        foreach (var name in Parameters)
            _record.With(name, null);
        _record.Prepare();
        _bounce = database.Command(connection, "count-hard-bounce").With("subscriber_id", null).With("threshold", null);
    }

    public static async Task<Ledger> Open(Database database, long announcement, TimeProvider clock, CancellationToken cancellationToken)
    {
        var connection = await database.ConnectAloneAsync(cancellationToken);
        await using (var session = database.Command(connection, "ledger-session"))
            await session.ExecuteNonQueryAsync(cancellationToken);
        return new Ledger(database, announcement, clock, connection);
    }

    /// <summary>Adds <paramref name="outcome"/> to the next commit; returns its number for <see cref="Committed"/>.</summary>
    public long Add(DeliveryOutcome outcome)
    {
        lock (_adding)
        {
            _added.Add(outcome);
            return ++_last;
        }
    }

    /// <summary>
    /// Returns once outcome <paramref name="number"/> (and every one added before it) is in the
    /// database, committing what has been added if no one else is. Throws if a commit failed: the run
    /// must stop, since what it sends could no longer be recorded.
    /// </summary>
    public void Committed(long number)
    {
        if (Volatile.Read(ref _committed) >= number)
            return;
        lock (_committing)
        {
            if (_committed >= number)
                return;
            if (_failed is not null)
                throw new InvalidOperationException("the delivery ledger could not be written", _failed);
            List<DeliveryOutcome> batch;
            long last;
            lock (_adding)
            {
                (batch, _added, _spare, last) = (_added, _spare, _added, _last);
            }
            try
            {
                // A transaction the database rolled back for a passing reason (PostgreSQL's deadlock
                // or serialization failure, SQLite still busy) goes again whole: these messages went,
                // and unrecorded they would go again. Nothing of it was applied, so nothing counts twice.
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        Commit(batch);
                        break;
                    }
                    catch (DbException e) when (Database.IsPassing(e) && attempt < CommitAttempts)
                    {
                    }
                }
            }
            catch (Exception e)
            {
                _failed = e;
                throw;
            }
            finally
            {
                batch.Clear();
            }
            Volatile.Write(ref _committed, last);
        }
    }

    /// <summary>Adds <paramref name="outcome"/> and commits it now.</summary>
    public void Record(DeliveryOutcome outcome) => Committed(Add(outcome));

    private void Commit(List<DeliveryOutcome> outcomes)
    {
        if (outcomes.Count == 0)
            return;
        // One statement is its own transaction; more, or a bounce to count, go in one.
        using var transaction = outcomes.Count == 1 && outcomes[0].BounceThreshold is null ? null : _connection.BeginTransaction();
        _record.Transaction = _bounce.Transaction = transaction;
        var now = _clock.GetUtcNow();
        foreach (var outcome in outcomes)
        {
            _record.Set("id", _announcement);
            _record.Set("subscriber_id", outcome.SubscriberId);
            _record.Set("status", outcome.Status);
            _record.Set("attempts", outcome.Attempts);
            _record.Set("first_attempt_at", outcome.FirstAttempt);
            _record.Set("next_attempt_at", outcome.NextAttempt);
            _record.Set("last_reply", Clip(outcome.Reply));
            _record.Set("message_id", outcome.MessageId);
            _record.Set("possible_duplicates", outcome.PossibleDuplicates);
            _record.Set("now", now);
            _record.ExecuteNonQuery();
            if (outcome.BounceThreshold is null)
                continue;
            _bounce.Set("subscriber_id", outcome.SubscriberId);
            _bounce.Set("threshold", outcome.BounceThreshold);
            _bounce.ExecuteNonQuery();
        }
        transaction?.Commit();
    }

    private static string? Clip(string? reply) => reply is null || reply.Length <= 500 ? reply : reply[..500];

    public void Dispose()
    {
        lock (_committing)
        {
            _record.Dispose();
            _bounce.Dispose();
            _connection.Dispose();
        }
    }
}
