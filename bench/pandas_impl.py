"""pandas version of the benchmark's per-user results, the way an analyst would write it.

It reads the CSV copies of the workload and computes the same compared columns as
bench/hand.sql, with the product's default settings: UTC calendar days, a 30-minute
session gap, weekly cadence, and the default event lists, plan values and models. It
writes them to a CSV sorted by user_id. The last stdout line is a JSON object with the wall time of
each stage in milliseconds and the peak resident memory in KiB.

Run it with Debian's interpreter, which has python3-pandas (bench/setup.sh installs it):
    /usr/bin/python3 bench/pandas_impl.py --data bench/data/quick/csv --out /tmp/pandas.csv
"""

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd

SESSION_GAP_SECONDS = 30 * 60
FALLBACK_GAP_DAYS = 7  # weekly cadence
NON_FEATURE = {
    'session_start', 'session_end', 'login', 'logout', 'activity', 'page_view', 'pageview', '$pageview',
    '$pageleave', '$identify', 'screen_view', 'app_open', 'pricing_page_view', 'cancel_page_view',
    'locked_feature_click', 'docs_viewed',
}
CANCEL_PAGE = {'cancel_page_view', 'Cancel', 'Downgrade'}
FREE_PLANS = {'free', 'trial'}
PLAN_VALUES = {
    'enterprise': 5, 'business': 4, 'pro': 4, 'premium': 4, 'team': 4, 'growth': 4,
    'starter': 3, 'basic': 3, 'standard': 3, 'plus': 3, 'paid': 3,
}
AT_RISK_ORDER = ['usage_decline', 'breadth_contraction', 'login_gap', 'support_escalation']
MILESTONE_POINTS = {'project_created': 20, 'task_added': 15, 'invite_sent': 25, 'task_completed': 15,
                    'template_used': 10, 'integration_connected': 15}
INVITE = {'invite_sent', 'user_invited', 'invite_member'}
COLLABORATION = {'comment_added', 'share_link_created', 'mention', 'shared_content'}
LOCKED_FEATURE = {'locked_feature_click', 'paywall_hit'}
PRICING_PAGE = {'pricing_page_view', '$pricing_view', 'Upgrade', 'view_pricing'}


class Timer:
    def __init__(self):
        self.stages = {}
        self.started = time.perf_counter()
        self._current = None

    def start(self, name):
        self.stop()
        self._current = (name, time.perf_counter())

    def stop(self):
        if self._current:
            name, began = self._current
            self.stages[name] = self.stages.get(name, 0) + (time.perf_counter() - began) * 1000
            self._current = None

    def result(self):
        self.stop()
        return {
            'stages': self.stages,
            'totalMs': (time.perf_counter() - self.started) * 1000,
            'maxRssKb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }


def day_number(ts):
    """UTC calendar day of each timestamp, as days since 1970-01-01."""
    return ts.values.astype('datetime64[D]').astype(np.int64)


def load(data):
    text = {'user_id': str, 'event': str, 'session_id': str, 'plan': str, 'kind': str, 'sentiment': str}
    events = pd.read_csv(f'{data}/events.csv', dtype=text, usecols=['user_id', 'event', 'ts', 'session_id'],
                         parse_dates=['ts'])
    users = pd.read_csv(f'{data}/users.csv', dtype=text, usecols=['user_id', 'signup_at', 'plan'],
                        parse_dates=['signup_at'])
    billing = pd.read_csv(f'{data}/billing.csv', dtype=text, usecols=['user_id', 'ts', 'kind'], parse_dates=['ts'])
    support = pd.read_csv(f'{data}/support.csv', dtype=text, usecols=['user_id', 'ts', 'sentiment'],
                          parse_dates=['ts'])
    return events, users, billing, support


def sessions_of(events):
    """Return one row per session with its user, first calendar day and length in whole seconds."""
    with_id = events[events['session_id'].notna()]
    keyed = with_id.groupby(['user_id', 'session_id'], sort=False).agg(
        start=('ts', 'min'), end=('ts', 'max'), day=('day', 'min')).reset_index()

    # Events without a session id start a new session after more than 30 minutes since the user's
    # previous event of any kind, so the window covers every event of those users.
    gap_users = events.loc[events['session_id'].isna(), 'user_id'].unique()
    parts = [keyed[['user_id', 'start', 'end', 'day']]]
    if len(gap_users) > 0:
        sub = events[events['user_id'].isin(gap_users)].sort_values(['user_id', 'ts'], kind='stable')
        previous = sub.groupby('user_id', sort=False)['ts'].shift()
        gap = (sub['ts'] - previous).dt.total_seconds()
        starts = sub['session_id'].isna() & ~(gap <= SESSION_GAP_SECONDS)
        sub = sub.assign(n=starts.astype(np.int64).groupby(sub['user_id'], sort=False).cumsum())
        sub = sub[sub['session_id'].isna()]
        gapped = sub.groupby(['user_id', 'n'], sort=False).agg(
            start=('ts', 'min'), end=('ts', 'max'), day=('day', 'min')).reset_index()
        parts.append(gapped[['user_id', 'start', 'end', 'day']])
    sessions = pd.concat(parts, ignore_index=True)
    sessions['seconds'] = (sessions['end'] - sessions['start']).dt.total_seconds().floordiv(1).astype(np.int64)
    return sessions


def count_where(frame, mask, key='user_id'):
    return frame[mask].groupby(key).size()


def metrics_of(events, sessions, users, billing, support, d):
    events = events[events['day'] < d]
    sessions = sessions[sessions['day'] < d]
    sday = sessions['day']
    recent_seconds = sessions[sday >= d - 28].groupby('user_id')['seconds']
    session_stats = pd.DataFrame({
        'total_sessions': sessions.groupby('user_id').size(),
        's7': count_where(sessions, sday >= d - 7),
        's_prev7': count_where(sessions, (sday >= d - 14) & (sday < d - 7)),
        's14': count_where(sessions, sday >= d - 14),
        's_prev14': count_where(sessions, (sday >= d - 28) & (sday < d - 14)),
        's28': count_where(sessions, sday >= d - 28),
        's_base28': count_where(sessions, (sday >= d - 35) & (sday < d - 7)),
        # Integer seconds divided once, as the product does, so that ties at a band edge land the same way.
        'avg_minutes_28d': recent_seconds.sum() / 60.0 / recent_seconds.count(),
    })

    is_feature = ~events['event'].isin(NON_FEATURE)
    days = events[['user_id', 'day']].drop_duplicates().sort_values(['user_id', 'day'])
    gaps = days['day'].diff().where(days['user_id'].eq(days['user_id'].shift()))
    day_stats = pd.DataFrame({
        'first_day': days.groupby('user_id')['day'].min(),
        'last_day': days.groupby('user_id')['day'].max(),
        'typical_gap': gaps.groupby(days['user_id']).median(),
        'cancel_events_30d': count_where(events, events['event'].isin(CANCEL_PAGE) & (events['day'] >= d - 30)),
    })

    features = events[is_feature]
    recent = features[features['day'] >= d - 30]
    feature_stats = pd.DataFrame({
        'f30': recent.groupby('user_id')['event'].nunique(),
        'f7': recent[recent['day'] >= d - 7].groupby('user_id')['event'].nunique(),
    })
    eight_weeks = features[features['day'] >= d - 56]
    week = (d - 1 - eight_weeks['day']) // 7
    peak = eight_weeks.groupby([eight_weeks['user_id'], week])['event'].nunique().groupby(level=0).max()
    total_features = features['event'].nunique()

    support = support.assign(day=day_number(support['ts']))
    support = support[(support['day'] < d) & (support['day'] >= d - 30)]
    negative = support['sentiment'].str.lower().eq('negative')
    support_stats = pd.DataFrame({
        't7': count_where(support, support['day'] >= d - 7),
        't30': support.groupby('user_id').size(),
        'neg7': count_where(support, (support['day'] >= d - 7) & negative),
        'neg30': count_where(support, negative),
    })

    billing = billing.assign(day=day_number(billing['ts']))
    billing = billing[(billing['day'] < d) & (billing['day'] >= d - 30) & billing['user_id'].notna()]
    kind = billing['kind'].str.lower()
    billing_stats = pd.DataFrame({
        'failed': count_where(billing, kind.eq('payment_failed')),
        'downgrades': count_where(billing, kind.eq('downgrade')),
        'billing_cancel_views': count_where(billing, kind.eq('cancel_page_view')),
    })

    # Activation milestones ever reached, and the team and intent events of expansion readiness.
    event = events['event']
    flag_counts = {name: count_where(events, event.eq(name)) for name in MILESTONE_POINTS}
    flag_counts['invited_30d'] = count_where(events, event.isin(INVITE) & (events['day'] >= d - 30))
    flag_counts['collaborated_30d'] = count_where(events, event.isin(COLLABORATION) & (events['day'] >= d - 30))
    flag_counts['locked_clicked_14d'] = count_where(events, event.isin(LOCKED_FEATURE) & (events['day'] >= d - 14))
    flag_counts['pricing_viewed_14d'] = count_where(events, event.isin(PRICING_PAGE) & (events['day'] >= d - 14))
    # One frame from every count at once, so that its index is the union of the users with any of them.
    flags = pd.DataFrame(flag_counts).fillna(0) > 0

    users = users.drop_duplicates('user_id').set_index('user_id')
    population = users.index.union(pd.Index(day_stats.index)).sort_values()
    m = pd.DataFrame(index=population)
    m.index.name = 'user_id'
    m = m.join(users[['plan']]).join(session_stats).join(day_stats).join(feature_stats)
    m = m.join(peak.rename('peak_week_features')).join(support_stats).join(billing_stats).join(flags)
    m[list(flags.columns)] = m[list(flags.columns)].fillna(False).astype(bool)
    counts = ['total_sessions', 's7', 's_prev7', 's14', 's_prev14', 's28', 's_base28', 'f30', 'f7',
              'peak_week_features', 't7', 't30', 'neg7', 'neg30', 'failed', 'downgrades', 'billing_cancel_views',
              'cancel_events_30d']
    m[counts] = m[counts].fillna(0).astype(np.int64)

    signup_day = pd.Series(day_number(users['signup_at']), index=users.index).where(users['signup_at'].notna())
    start_day = signup_day.reindex(population).fillna(m['first_day'])
    m['days_since_last_active'] = (d - 1) - m['last_day']
    m['days_since_signup'] = (d - 1) - start_day
    m['avg_weekly_sessions_28d'] = m['s28'] / 4.0
    m['baseline_weekly'] = m['s_base28'] / 4.0
    m['effective_gap'] = m['typical_gap'].fillna(FALLBACK_GAP_DAYS)
    m['breadth_30d'] = m['f30'] / total_features if total_features > 0 else np.nan
    m['cancel_viewed'] = (m['cancel_events_30d'] + m['billing_cancel_views']) > 0
    return m


def bands(value, edges, null_points):
    """Return the points of the highest band whose lower edge the value reaches. Edges are (min, points, exclusive), ascending."""
    conditions = [value > low if exclusive else value >= low for low, _, exclusive in reversed(edges)]
    choices = [points for _, points, _ in reversed(edges)]
    return np.where(value.isna(), null_points, np.select(conditions, choices, default=edges[0][1]))


def tier(total, tiers):
    return np.select([total >= low for low, _ in reversed(tiers)], [name for _, name in reversed(tiers)], default=None)


def scores_of(m):
    out = pd.DataFrame(index=m.index)
    dsla = m['days_since_last_active']
    active = dsla.notna()

    e = {
        'frequency': bands(m['s7'], [(0, 0, False), (1, 5, False), (2, 12, False), (4, 20, False), (7, 30, False)], 0),
        'breadth': bands(m['breadth_30d'], [(0, 3, False), (0.25, 10, False), (0.5, 18, False), (0.8, 25, False)], 3),
        'depth': bands(m['avg_minutes_28d'], [(0, 3, False), (5, 10, False), (15, 18, False), (30, 25, True)], 3),
        'recency': bands(dsla, [(0, 20, False), (1, 15, False), (4, 8, False), (8, 3, False), (15, 0, False)], 0),
    }
    usage_decline = (1 - m['s7'] / m['baseline_weekly']).clip(lower=0).where(m['baseline_weekly'] > 0)
    gap_ratio = (dsla / m['effective_gap']).where(active)
    c = {
        'usage_decline': bands(usage_decline, [(0, 0, False), (0.3, 10, False), (0.5, 20, False), (0.7, 30, False)], 0),
        'recency_gap': bands(gap_ratio, [(0, 0, False), (1, 5, False), (1.5, 15, False), (2, 25, False)], 0),
        'support': np.maximum(np.where(m['neg30'] > 0, 20, 0), np.where(m['t30'] >= 2, 10, 0)),
        'billing': np.maximum.reduce([np.where(m['failed'] > 0, 15, 0), np.where(m['downgrades'] > 0, 10, 0),
                                      np.where(m['cancel_viewed'], 10, 0)]),
        'trend': np.where((m['s_prev14'] > 0) & (m['s14'] < 0.8 * m['s_prev14']), 10, 0),
    }
    engagement = sum(e.values())
    churn = sum(c.values())
    activation = sum(np.where(m[name], points, 0) for name, points in MILESTONE_POINTS.items())
    x = {
        'team_growth': np.minimum(25, np.where(m['invited_30d'], 15, 0) + np.where(m['collaborated_30d'], 10, 0)),
        'feature_interest': np.minimum(25, np.where(m['locked_clicked_14d'], 15, 0)
                                       + np.where(m['pricing_viewed_14d'], 10, 0)),
        'engagement_level': bands(pd.Series(engagement, index=m.index),
                                  [(0, 0, False), (30, 5, False), (50, 15, False), (70, 25, True)], 0),
    }
    # The usage-limit component is missing (the users file has no usage), so the other three (75 points) are
    # scaled to 100 and rounded half away from zero, as DuckDB's round() does.
    expansion = np.floor(sum(x.values()) * 100 / 75 + 0.5).astype(np.int64)

    fired = pd.DataFrame({
        'usage_decline': (m['baseline_weekly'] > 0) & (m['s7'] < 0.5 * m['baseline_weekly']),
        'breadth_contraction': (m['peak_week_features'] > 0) & (m['f7'] < 0.5 * m['peak_week_features']),
        'login_gap': (dsla > 2 * m['effective_gap']).fillna(False),
        'support_escalation': (m['t7'] >= 2) | (m['neg7'] > 0),
    }, index=m.index)[AT_RISK_ORDER]
    signals = pd.Series('', index=m.index)
    for name in AT_RISK_ORDER:
        hit = fired[name].to_numpy(dtype=bool)
        signals = signals.where(~hit, np.where(signals.eq(''), name, signals + ';' + name))

    week_drop = (1 - m['s7'] / m['s_prev7']).where(m['s_prev7'] > 0)
    breadth = m['breadth_30d']
    dss = m['days_since_signup']
    segment = np.select(
        [
            # Inactive: never active, or fewer than 3 sessions ever and none in the last 30 days.
            ~active | ((dsla >= 30) & (m['total_sessions'] < 3)),
            (dsla >= 30) & (m['total_sessions'] >= 3),
            (dsla >= 7) | (week_drop >= 0.5),
            (m['s7'] >= 5) & (breadth >= 0.7) & (dss >= 30),
            (m['s7'] >= 2) & (breadth >= 0.3) & (dss >= 14),
            dss < 7,
        ],
        ['inactive', 'dormant', 'at_risk', 'power', 'regular', 'new'],
        default='casual',
    )

    r = np.select([~active, dsla == 0, dsla <= 3, dsla <= 7, dsla <= 14], [1, 5, 4, 3, 2], default=1)
    weekly = m['avg_weekly_sessions_28d']
    f = np.select([weekly >= 7, weekly >= 4, weekly >= 2, weekly >= 1], [5, 4, 3, 2], default=1)
    plan = m['plan'].str.lower()
    recent = dsla.fillna(999999) < 30
    mon = plan.map(PLAN_VALUES).fillna(3)
    mon = mon.where(~plan.isin(FREE_PLANS), np.where(recent, 2, 1))
    mon = pd.Series(mon, index=m.index).where(m['plan'].notna()).astype('Int64')
    m_or5 = mon.fillna(5).astype(np.int64)
    rfm_segment = np.select(
        [
            (r == 5) & (f >= 4) & (mon.isna() | (m_or5 >= 4)).to_numpy() & (r + f + m_or5.to_numpy() >= 14),
            (r >= 4) & (f >= 4),
            (r >= 3) & (f >= 3),
            r >= 3,
            (r == 2) & (f >= 2),
            r == 2,
            f >= 3,
        ],
        ['champions', 'loyal', 'promising', 'recent_infrequent', 'need_attention', 'hibernating', 'cannot_lose'],
        default='lost',
    )

    out['behavioral_segment'] = segment
    out['engagement_score'] = engagement
    out['engagement_tier'] = tier(engagement, [(0, 'disengaged'), (20, 'low'), (40, 'moderate'), (60, 'engaged'),
                                               (80, 'highly_engaged')])
    for name, points in e.items():
        out[f'engagement_{name}_points'] = points
    out['churn_risk_score'] = churn
    out['churn_risk_tier'] = tier(churn, [(0, 'healthy'), (20, 'low'), (40, 'moderate'), (70, 'high')])
    for name, points in c.items():
        out[f'churn_risk_{name}_points'] = points
    # Dormant and inactive users are not flagged at risk.
    at_risk = (fired.sum(axis=1) >= 2).to_numpy() & ~np.isin(segment, ['dormant', 'inactive'])
    out['at_risk'] = np.where(at_risk, 'true', 'false')
    out['at_risk_signals'] = signals
    out['rfm_r'] = r
    out['rfm_f'] = f
    out['rfm_m'] = mon
    out['rfm_code'] = (pd.Series(r, index=m.index).astype(str) + pd.Series(f, index=m.index).astype(str)
                       + mon.astype(str).where(mon.notna(), '-'))
    out['rfm_segment'] = rfm_segment
    out['plan'] = m['plan']
    out['days_since_last_active'] = dsla.astype('Int64')
    out['days_since_signup'] = m['days_since_signup'].astype('Int64')
    out['sessions_7d'] = m['s7']
    out['avg_weekly_sessions_28d'] = weekly
    out['activation_score'] = activation
    out['activation_tier'] = tier(activation, [(0, 'not_activated'), (20, 'early'), (50, 'partially_activated'),
                                               (80, 'fully_activated')])
    out['expansion_score'] = expansion
    out['expansion_tier'] = tier(expansion, [(0, 'not_ready'), (25, 'low'), (50, 'moderate'), (75, 'high')])
    for name, points in x.items():
        out[f'expansion_{name}_points'] = points
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', required=True, help='folder with users.csv, events.csv, billing.csv, support.csv')
    parser.add_argument('--out', required=True, help='CSV file to write, one row per user')
    args = parser.parse_args()

    timer = Timer()
    timer.start('read')
    events, users, billing, support = load(args.data)
    timer.start('sessions')
    events['day'] = day_number(events['ts'])
    d = int(events['day'].max()) + 1  # the as-of day is the last day with an event
    sessions = sessions_of(events)
    timer.start('metrics')
    metrics = metrics_of(events, sessions, users, billing, support, d)
    timer.start('scores')
    scores = scores_of(metrics)
    timer.start('export')
    scores.reset_index().to_csv(args.out, index=False)
    print(json.dumps(timer.result()))


if __name__ == '__main__':
    main()
