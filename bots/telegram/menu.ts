/** The command menu Telegram shows next to the input field (`setMyCommands`). */
export const TELEGRAM_MENU: { command: string; description: string }[] = [
  { command: 'rent', description: 'Rent GPUs near you, step by step' },
  { command: 'jobs', description: 'Your recent jobs' },
  { command: 'job', description: 'A job: status and last log lines' },
  { command: 'cancel', description: 'Cancel a job' },
  { command: 'balance', description: 'Your token balance' },
  { command: 'link', description: 'Link your Solana wallet' },
  { command: 'nodes', description: 'Online nodes' },
  { command: 'status', description: 'A node: status, GPUs, price' },
  { command: 'mynodes', description: 'The nodes your wallet owns' },
  { command: 'alerts', description: 'Operator alerts: on, off, mute, quiet hours' },
  { command: 'stake', description: 'Your stake, or bond more' },
  { command: 'unstake', description: 'Start unbonding stake' },
  { command: 'rewards', description: 'Your rewards' },
  { command: 'proposals', description: 'Governance proposals' },
  { command: 'vote', description: 'Vote on a proposal' },
  { command: 'help', description: 'What this bot does' },
];
