// The progress page: start a job (POST /api/jobs), then follow it on `job-<id>` with the
// unmodified @upstash/realtime client. The followed job is in the URL (#job=<id>), so a
// reload keeps following it; the server then replays the job's whole channel before the
// live events, so the bar and the list of steps are complete again. Every event is shown
// as it arrives, with no deduplication: the browser test counts them, so a duplicate sent
// by the server would show up.
import { FormEvent, useCallback, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { RealtimeProvider } from "@upstash/realtime/client";
import { useRealtime, type Done, type Progress, type Started } from "./events";
import { api } from "../../../support/web/api";

/** A job as `POST /api/jobs` and `GET /api/jobs` describe it. */
type JobInfo = {
  id: string;
  channel: string;
  steps: number;
  stepMillis: number;
  title: string;
  startedMs: number;
};

/** Job ids as the server makes them (and its SSE endpoint accepts them). */
const JOB_ID = /^[a-z0-9-]{1,40}$/;

function jobInHash(): string | null {
  const match = /^#job=(.*)$/.exec(window.location.hash);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

/** The job named by the URL's `#job=<id>`, following the hash as it changes. */
function useFollowedJob(): string | null {
  const [id, setId] = useState(jobInHash);
  useEffect(() => {
    const onChange = () => setId(jobInHash());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return id;
}

function StartForm({
  onStarted,
  onError,
}: {
  onStarted: (job: JobInfo) => void;
  onError: (message: string) => void;
}) {
  const [steps, setSteps] = useState("10");
  const [stepMillis, setStepMillis] = useState("400");
  const [title, setTitle] = useState("");
  const [busy, setBusy] = useState(false);
  const start = (event: FormEvent) => {
    event.preventDefault();
    // Empty fields take the server's defaults; everything else goes as typed, and the
    // server says what is wrong with it (422).
    const body: Record<string, unknown> = {};
    if (steps.trim() !== "") body.steps = Number(steps);
    if (stepMillis.trim() !== "") body.stepMillis = Number(stepMillis);
    if (title !== "") body.title = title;
    setBusy(true);
    api("POST", "/api/jobs", body)
      .then((job: JobInfo) => {
        onError("");
        onStarted(job);
      })
      .catch((e: Error) => onError(e.message))
      .finally(() => setBusy(false));
  };
  // noValidate: the server checks the bounds, and its message is shown.
  return (
    <form className="start" onSubmit={start} noValidate>
      <label>
        Steps
        <input id="steps" type="number" min={1} max={100} value={steps} onChange={(e) => setSteps(e.target.value)} />
      </label>
      <label>
        Ms per step
        <input id="step-millis" type="number" min={10} max={10000} step={10} value={stepMillis} onChange={(e) => setStepMillis(e.target.value)} />
      </label>
      <label className="grow">
        Title
        <input id="title" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="Job" />
      </label>
      <button id="start" type="submit" disabled={busy}>
        Start a job
      </button>
    </form>
  );
}

/** One job, followed on its channel. Mounted with `key={id}`: a new job starts empty. */
function Job({ id, info, onError }: { id: string; info?: JobInfo; onError: (message: string) => void }) {
  const channel = `job-${id}`;
  const [started, setStarted] = useState<Started | null>(null);
  const [steps, setSteps] = useState<Progress[]>([]);
  const [done, setDone] = useState<Done | null>(null);
  const [missing, setMissing] = useState("");
  const [cancelling, setCancelling] = useState(false);
  const { status } = useRealtime({
    channels: [channel],
    events: ["job.started", "job.progress", "job.cancelRequested", "job.done"],
    onData: (message) => {
      if (message.channel !== channel) return;
      switch (message.event) {
        case "job.started":
          setStarted(message.data);
          break;
        case "job.cancelRequested":
          // Asked from this page or any other, through any server.
          setCancelling(true);
          break;
        case "job.progress":
          setSteps((list) => [...list, message.data]);
          break;
        case "job.done":
          setDone(message.data);
          break;
      }
    },
  });
  // Whether the server knows the job at all (a stale link, or its history expired).
  useEffect(() => {
    api("GET", `/api/jobs/${id}`)
      .then(() => setMissing(""))
      .catch((e: Error) => setMissing(e.message));
  }, [id]);
  const cancel = () => {
    setCancelling(true);
    api("DELETE", `/api/jobs/${id}`)
      .then(() => onError(""))
      .catch((e: Error) => {
        setCancelling(false);
        onError(e.message);
      });
  };
  const last = steps.length > 0 ? steps[steps.length - 1] : undefined;
  const percent = last?.percent ?? 0;
  const total = last?.steps ?? started?.steps ?? info?.steps;
  const state = done ? done.outcome : last ? "running" : "waiting";
  return (
    <section id="job" data-job={id} data-state={state}>
      <header>
        <h2>
          {started?.title ?? info?.title ?? "Job"} <code>{id}</code>
        </h2>
        <span className="status" id="status" data-status={status}>
          {status}
        </span>
      </header>
      <div className="track" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <div id="bar" className={state} data-percent={percent} style={{ width: `${percent}%` }} />
        <span className="percent">{percent}%</span>
      </div>
      <p id="label" className="label">
        {last
          ? last.label
          : done
            ? "No step ran."
            : `Waiting for the first step${total ? ` of ${total}` : ""}…`}
      </p>
      {done ? (
        <p id="outcome" className={done.outcome} data-outcome={done.outcome} data-steps-done={done.stepsDone}>
          <strong>{done.outcome === "completed" ? "Completed" : "Cancelled"}</strong> {done.summary}
        </p>
      ) : (
        (last || !missing) && (
          <button id="cancel" onClick={cancel} disabled={cancelling}>
            {cancelling ? "Cancelling…" : "Cancel"}
          </button>
        )
      )}
      {missing && !last && !done && (
        <p id="missing" className="error-text">
          {missing}
        </p>
      )}
      <ol id="step-list">
        {steps.map((step, index) => (
          <li key={index} data-step={step.step}>
            <span className="pct">{step.percent}%</span> {step.label}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Recent({ jobs, followed }: { jobs: JobInfo[]; followed: string | null }) {
  return (
    <section className="recent">
      <h2>Recent jobs</h2>
      {jobs.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <ul id="jobs">
          {jobs.map((job) => (
            <li key={job.id} className={job.id === followed ? "current" : undefined}>
              <a href={`#job=${job.id}`}>{job.title}</a>{" "}
              <span className="muted">
                {job.steps} × {job.stepMillis} ms, started {new Date(job.startedMs).toLocaleTimeString()}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function App() {
  const followed = useFollowedJob();
  const [jobs, setJobs] = useState<JobInfo[]>([]);
  const [error, setError] = useState("");
  const refresh = useCallback(() => {
    api("GET", "/api/jobs")
      .then((body: { jobs: JobInfo[] }) => setJobs(body.jobs))
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(refresh, [refresh]);
  const started = (job: JobInfo) => {
    window.location.hash = `job=${job.id}`;
    refresh();
  };
  let body;
  if (followed === null) {
    body = <p className="muted">Start a job, or pick one of the recent ones.</p>;
  } else if (!JOB_ID.test(followed)) {
    body = <p className="error-text">`{followed}` is not a job id.</p>;
  } else {
    body = <Job key={followed} id={followed} info={jobs.find((job) => job.id === followed)} onError={setError} />;
  }
  return (
    <main>
      <h1>Background jobs</h1>
      <StartForm onStarted={started} onError={setError} />
      {error && (
        <p id="error" className="error-text" role="alert">
          {error}
        </p>
      )}
      {body}
      <Recent jobs={jobs} followed={followed} />
    </main>
  );
}

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <RealtimeProvider api={{ url: "/api/realtime" }}>
      <App />
    </RealtimeProvider>,
  );
}
